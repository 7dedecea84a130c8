"""dockyard restart: stop (as `stop` does) and start again."""
from __future__ import annotations

from ..bulk import call, each, path
from .stop import ARGS, USAGE, flags, query  # noqa: F401  (same options as stop)

SHORT = "Restart one or more containers"


def main(app, opts, args):
    q = query(opts)
    return each(app, args, lambda n: call(app, "POST", path("/containers/{}/restart", n), q))
