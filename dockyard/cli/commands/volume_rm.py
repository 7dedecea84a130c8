"""dockyard volume rm."""
from __future__ import annotations

from ..bulk import call, each, path

USAGE = "[OPTIONS] VOLUME [VOLUME...]"
SHORT = "Remove one or more volumes"
ARGS = (1, None)


def flags(fs):
    fs.bool("force", "f", help="Force the removal of one or more volumes")


def main(app, opts, args):
    q = {"force": 1} if opts.force else None
    return each(app, args, lambda n: call(app, "DELETE", path("/volumes/{}", n), q))
