"""kill: send a signal (name like TERM/SIGTERM or number) to the container's init or all its processes."""
import _signal

from ..args import Command
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
    num = getattr(_signal, name, None)
    if not isinstance(num, int) or name.startswith("SIG_"):
        raise RuntimeFailure(f"unknown signal {s!r}")
    return num


def command():
    c = Command('kill', "send a signal to the container's init process", positionals=['id'], optional={'signal': 'SIGTERM'})
    c.flag('--all', '-a', kind="bool")
    return c


def run(ctx, a):
    ctx.runtime.kill(a.id, parse_signal(a.signal), a.all)
    return 0
