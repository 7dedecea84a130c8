"""dockyard volume inspect."""
from __future__ import annotations

from .. import inspecting

USAGE = "[OPTIONS] VOLUME [VOLUME...]"
SHORT = "Display detailed information on one or more volumes"
ARGS = (1, None)


def flags(fs):
    fs.string("format", "f", help="Format output using a custom template")


def main(app, opts, args):
    return inspecting.run(app, args, opts.format, ("volume",), generic=False)
