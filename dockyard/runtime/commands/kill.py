"""kill: send a signal (name like TERM/SIGTERM or number) to the container's init or all its processes."""
import signal

from ..errors import RuntimeFailure


def parse_signal(s: str) -> int:
    if s.isdigit():
        n = int(s)
        if 0 < n < 65:
            return n
        raise RuntimeFailure(f"invalid signal: {s}")
    name = s.upper()
    if not name.startswith("SIG"):
        name = "SIG" + name
    try:
        return int(getattr(signal.Signals, name))
    except AttributeError:
        raise RuntimeFailure(f"unknown signal {s!r}") from None


def add(sub):
    p = sub.add_parser("kill", help="send a signal to the container's init process")
    p.add_argument("--all", "-a", action="store_true")
    p.add_argument("id")
    p.add_argument("signal", nargs="?", default="SIGTERM")


def run(ctx, a):
    ctx.runtime.kill(a.id, parse_signal(a.signal), a.all)
    return 0
