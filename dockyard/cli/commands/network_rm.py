"""dockyard network rm."""
from __future__ import annotations

from ..bulk import SKIP, call, each, path
from ..errors import APIError

USAGE = "NETWORK [NETWORK...]"
SHORT = "Remove one or more networks"
ARGS = (1, None)


def flags(fs):
    fs.bool("force", "f", help="Do not error if the network does not exist")


def main(app, opts, args):
    def rm(name):
        try:
            call(app, "DELETE", path("/networks/{}", name))
        except APIError as e:
            if opts.force and e.status_code == 404:
                return SKIP
            raise
        return name
    return each(app, args, rm, trailer="exit status 1")
