"""dockyard network inspect."""
from __future__ import annotations

from .. import inspecting

USAGE = "[OPTIONS] NETWORK [NETWORK...]"
SHORT = "Display detailed information on one or more networks"
ARGS = (1, None)


def flags(fs):
    fs.string("format", "f", help="Format output using a custom template")
    fs.bool("verbose", "v", help="Verbose output for diagnostics")


def main(app, opts, args):
    return inspecting.run(app, args, opts.format, ("network",), generic=False)
