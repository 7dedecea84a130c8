"""dockyard kill: send a signal (default SIGKILL)."""
from __future__ import annotations

from ..bulk import call, each, path

USAGE = "[OPTIONS] CONTAINER [CONTAINER...]"
SHORT = "Kill one or more running containers"
ARGS = (1, None)


def flags(fs):
    fs.string("signal", "s", help="Signal to send to the container")


def main(app, opts, args):
    q = {"signal": opts.signal} if opts.signal else None
    return each(app, args, lambda n: call(app, "POST", path("/containers/{}/kill", n), q))
