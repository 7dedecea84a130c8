"""dockyardd: wires the stores, the shim and the routes together and serves the Engine API."""
from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys

from . import config as config_mod

log = logging.getLogger("dockyard.daemon")


class PidFile:
    """Refuses to start when another daemon holds the pid file (a stale one is replaced)."""

    def __init__(self, path: str):
        self.path = path

    def acquire(self) -> None:
        try:
            with open(self.path) as f:
                old = int(f.read().strip() or 0)
        except (FileNotFoundError, ValueError):
            old = 0
        if old and old != os.getpid() and os.path.exists(f"/proc/{old}"):
            try:
                with open(f"/proc/{old}/cmdline", "rb") as f:
                    cmd = f.read()
            except OSError:
                cmd = b""
            if b"dockyardd" in cmd or b"dockyard.daemon" in cmd:
                raise config_mod.ConfigError(f"pid file found, ensure dockyardd is not running or delete {self.path}")
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        tmp = f"{self.path}.{os.getpid()}"
        with open(tmp, "w") as f:
            f.write(str(os.getpid()))
        os.replace(tmp, self.path)

    def release(self) -> None:
        try:
            with open(self.path) as f:
                if f.read().strip() == str(os.getpid()):
                    os.unlink(self.path)
        except OSError:
            pass


async def serve(cfg: config_mod.Config) -> None:
    from .daemon import Daemon

    daemon = Daemon(cfg)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await daemon.start()
    try:
        await stop.wait()
        log.info("shutting down (containers keep running)")
    finally:
        await daemon.close()


def main(argv: list[str] | None = None) -> int:
    try:
        cfg, ns = config_mod.load(argv)
    except config_mod.ConfigError as e:
        print(f"dockyardd: {e}", file=sys.stderr)
        return 1
    if ns.version:
        from .routes.system import VERSION
        print(f"Dockyard version {VERSION}")
        return 0
    level = {"debug": logging.DEBUG, "info": logging.INFO, "warn": logging.WARNING, "error": logging.ERROR,
             "fatal": logging.CRITICAL}[cfg.log_level]
    logging.basicConfig(level=level, stream=sys.stderr,
                        format='time="%(asctime)s" level=%(levelname)s msg="%(message)s" (%(name)s)')
    if os.geteuid() != 0:
        print("dockyardd: must run as root", file=sys.stderr)
        return 1
    pid = PidFile(cfg.pidfile_path)
    try:
        pid.acquire()
    except config_mod.ConfigError as e:
        print(f"dockyardd: {e}", file=sys.stderr)
        return 1
    try:
        asyncio.run(serve(cfg))
    except config_mod.ConfigError as e:
        print(f"dockyardd: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"dockyardd: {e}", file=sys.stderr)
        return 1
    finally:
        pid.release()
    return 0


if __name__ == "__main__":
    sys.exit(main())
