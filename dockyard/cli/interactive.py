"""What attached sessions share: the tty size sent on start and on SIGWINCH, signal proxying to
the container, and raw mode on the local terminal that is restored on every way out."""
from __future__ import annotations

import signal
import sys

from . import term
from .errors import CLIError

# signals docker's ForwardAllSignals leaves alone
_SKIP = {"SIGCHLD", "SIGPIPE", "SIGURG", "SIGWINCH", "SIGKILL", "SIGSTOP", "SIGCLD", "SIGPOLL"}


def resize(api, path: str, fd: int = 1) -> bool:
    """Send the local terminal's size to ``path`` (…/resize); False when it could not."""
    size = term.get_size(fd)
    if size is None:
        return False
    try:
        api.request("POST", path, {"h": size[0], "w": size[1]}, conn=api.new_conn()).read()
    except (CLIError, OSError):  # the process may not have its tty yet, or is gone
        return False
    return True


class Session:
    """``with Session(...)``: installs handlers (SIGWINCH → resize, proxied signals → kill) and
    raw mode; everything is undone on exit, errors and signals included."""

    def __init__(self, api, *, raw_fd: int | None = None, resize_path: str | None = None,
                 proxy_path: str | None = None):
        self.api, self.raw_fd, self.resize_path, self.proxy_path = api, raw_fd, resize_path, proxy_path
        self.saved: dict[int, object] = {}
        self.raw: term.RawMode | None = None

    def __enter__(self):
        if self.resize_path:
            self._handle(signal.SIGWINCH, lambda s, f: resize(self.api, self.resize_path))
        if self.proxy_path:
            for sig in signal.valid_signals():
                try:
                    name = signal.Signals(sig).name
                except ValueError:
                    continue
                if name in _SKIP:
                    continue
                self._handle(sig, self._forward)
        else:
            for sig in (signal.SIGTERM, signal.SIGHUP):
                self._handle(sig, _interrupt)
        if self.raw_fd is not None:
            self.raw = term.RawMode(self.raw_fd).__enter__()
        return self

    def _handle(self, sig, fn) -> None:
        try:
            self.saved[sig] = signal.signal(sig, fn)
        except (OSError, ValueError, RuntimeError):
            pass

    def _forward(self, signum, frame) -> None:
        name = signal.Signals(signum).name[3:]
        try:
            self.api.request("POST", self.proxy_path, {"signal": name}, conn=self.api.new_conn()).read()
        except (CLIError, OSError) as e:  # the container may be gone already
            sys.stderr.write(f"error sending signal: {e}\n")

    def initial_resize(self) -> None:
        """docker retries the first resize a few times: the process may not have its tty yet."""
        if not self.resize_path:
            return
        import time
        for i in range(10):
            if resize(self.api, self.resize_path):
                return
            time.sleep(0.01 * (i + 1))

    def __exit__(self, *exc) -> None:
        if self.raw is not None:
            self.raw.restore()
        for sig, old in self.saved.items():
            try:
                signal.signal(sig, old)
            except (OSError, ValueError, TypeError):
                pass


def _interrupt(signum, frame):
    raise KeyboardInterrupt()
