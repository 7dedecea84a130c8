"""dockyard stop: stop running containers (SIGTERM, then SIGKILL after the grace period)."""
from __future__ import annotations

from ..bulk import call, each, path

USAGE = "[OPTIONS] CONTAINER [CONTAINER...]"
SHORT = "Stop one or more running containers"
ARGS = (1, None)


def flags(fs):
    fs.string("signal", "s", help="Signal to send to the container")
    fs.int("timeout", "t", help="Seconds to wait before killing the container")
    fs.alias("time", "timeout")


def query(opts) -> dict:
    """The stop/restart query: the grace period and the signal, when given."""
    q = {}
    if opts.is_set("timeout"):
        q["t"] = opts.timeout
    if opts.signal:
        q["signal"] = opts.signal
    return q


def main(app, opts, args):
    q = query(opts)
    return each(app, args, lambda n: call(app, "POST", path("/containers/{}/stop", n), q))
