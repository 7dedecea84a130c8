"""dockyard restart."""
from __future__ import annotations

from ..bulk import call, each, path

USAGE = "[OPTIONS] CONTAINER [CONTAINER...]"
SHORT = "Restart one or more containers"
ARGS = (1, None)


def flags(fs):
    fs.string("signal", "s", help="Signal to send to the container")
    fs.int("timeout", "t", help="Seconds to wait before killing the container")
    fs.alias("time", "timeout")


def main(app, opts, args):
    q = {}
    if opts.is_set("timeout"):
        q["t"] = opts.timeout
    if opts.signal:
        q["signal"] = opts.signal
    return each(app, args, lambda n: call(app, "POST", path("/containers/{}/restart", n), q))
