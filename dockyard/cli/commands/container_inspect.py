"""dockyard container inspect."""
from __future__ import annotations

from .. import inspecting

USAGE = "[OPTIONS] CONTAINER [CONTAINER...]"
SHORT = "Display detailed information on one or more containers"
ARGS = (1, None)


def flags(fs):
    fs.string("format", "f", help="Format output using a custom template")
    fs.bool("size", "s", help="Display total file sizes")


def main(app, opts, args):
    return inspecting.run(app, args, opts.format, ("container",), opts.size, generic=False)
