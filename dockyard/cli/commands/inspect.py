"""dockyard inspect: low-level information on containers, images, volumes or networks."""
from __future__ import annotations

from .. import inspecting
from ..errors import CLIError

USAGE = "[OPTIONS] NAME|ID [NAME|ID...]"
SHORT = "Return low-level information on Docker objects"
ARGS = (1, None)


def flags(fs):
    fs.string("format", "f", help="Format output using a custom template")
    fs.bool("size", "s", help="Display total file sizes if the type is container")
    fs.string("type", None, help="Only inspect objects of the given type")


def main(app, opts, args):
    kinds = inspecting.KINDS
    if opts.type:
        if opts.type not in inspecting.ALL_KINDS:
            raise CLIError(f'unknown type: "{opts.type}": must be one of '
                           + ", ".join(f'"{k}"' for k in inspecting.ALL_KINDS))
        if opts.type not in inspecting.KINDS:
            raise CLIError(f'{opts.type} objects are not supported by dockyard')
        return inspecting.run(app, args, opts.format, (opts.type,), opts.size, generic=False)
    return inspecting.run(app, args, opts.format, kinds, opts.size)
