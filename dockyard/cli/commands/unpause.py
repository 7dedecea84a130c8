"""dockyard unpause."""
from __future__ import annotations

from ..bulk import call, each, path

USAGE = "CONTAINER [CONTAINER...]"
SHORT = "Unpause all processes within one or more containers"
ARGS = (1, None)


def flags(fs):
    pass


def main(app, opts, args):
    return each(app, args, lambda n: call(app, "POST", path("/containers/{}/unpause", n)))
