"""``dockyard registry serve`` and ``dockyard registry garbage-collect``: ``main(argv)``.

``argv`` starts with the verb: ``["serve", "--addr", "127.0.0.1:5000", "--root", DIR]``.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from . import config as config_mod

PROG = "dockyard registry"


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise config_mod.ConfigError(message)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, description="A container image registry (OCI Distribution API, Docker registry v2).")
    sub = p.add_subparsers(dest="verb", metavar="COMMAND")
    s = sub.add_parser("serve", help="serve the registry API", description="Serve the registry API.")
    s.add_argument("--addr", help="listen address HOST:PORT (default 127.0.0.1:5000)")
    s.add_argument("--root", help="storage directory")
    s.add_argument("--config", help="config file (TOML, or JSON if it ends with .json)")
    s.add_argument("--tls-cert", help="TLS certificate (PEM); serve HTTPS")
    s.add_argument("--tls-key", help="TLS private key (PEM)")
    s.add_argument("--auth", dest="auth_mode", choices=("none", "htpasswd", "token"),
                   help="authentication: none, htpasswd (Basic) or token (Bearer, built-in token server)")
    s.add_argument("--htpasswd", help="htpasswd file with bcrypt hashes")
    s.add_argument("--log-level", choices=("debug", "info", "warn", "error"))
    g = sub.add_parser("garbage-collect", help="remove blobs that no manifest references",
                       description="Remove blobs that no manifest references. The server must be stopped.")
    g.add_argument("--root", help="storage directory")
    g.add_argument("--config", help="config file")
    g.add_argument("--delete-untagged", action="store_true", help="also remove manifests no tag reaches")
    g.add_argument("--dry-run", action="store_true", help="only print what would be removed")
    return p


def _serve(ns) -> int:
    from .server import RegistryServer

    cfg = config_mod.build(ns.config, addr=ns.addr, root=ns.root, tls_cert=ns.tls_cert, tls_key=ns.tls_key,
                           htpasswd=ns.htpasswd, auth_mode=ns.auth_mode, log_level=ns.log_level)
    level = {"debug": logging.DEBUG, "info": logging.INFO, "warn": logging.WARNING,
             "error": logging.ERROR}[cfg.log_level]
    logging.basicConfig(level=level, stream=sys.stderr,
                        format='time="%(asctime)s" level=%(levelname)s msg="%(message)s"')
    if level > logging.DEBUG:
        logging.getLogger("dockyard.api").setLevel(max(level, logging.WARNING))

    async def run() -> None:
        server = RegistryServer(cfg)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await server.start()
        print(f"dockyard registry: serving {server.url} from {cfg.root}", file=sys.stderr, flush=True)
        try:
            await stop.wait()
        finally:
            await server.close()

    asyncio.run(run())
    return 0


def _gc(ns) -> int:
    from .storage import Storage
    from .storage.gc import collect

    cfg = config_mod.build(ns.config, root=ns.root)
    st = Storage(cfg.root, sync=cfg.fsync)
    st.lock(exclusive=not ns.dry_run)
    try:
        res = collect(st, delete_untagged=ns.delete_untagged, dry_run=ns.dry_run,
                      upload_max_age=cfg.upload_max_age, max_manifest=cfg.max_manifest_size, say=print)
    finally:
        st.unlock()
    verb = "would remove" if ns.dry_run else "removed"
    print(f"{verb} {len(res.blobs)} blobs ({res.freed} bytes), {len(res.manifests)} manifests, "
          f"{res.links} blob links, {res.uploads} stale uploads")
    return 0


def main(argv: list[str] | None = None) -> int:
    from .storage import StorageLocked

    argv = sys.argv[1:] if argv is None else list(argv)
    parser = _parser()
    try:
        ns = parser.parse_args(argv)
        if ns.verb is None:
            parser.print_help(sys.stderr)
            return 2
        return _serve(ns) if ns.verb == "serve" else _gc(ns)
    except (config_mod.ConfigError, StorageLocked) as e:
        print(f"{PROG}: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"{PROG}: {e.strerror or e}{': ' + e.filename if getattr(e, 'filename', None) else ''}",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
