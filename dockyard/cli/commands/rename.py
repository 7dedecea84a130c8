"""dockyard rename."""
from __future__ import annotations

from ..bulk import path
from ..errors import CLIError

USAGE = "CONTAINER NEW_NAME"
SHORT = "Rename a container"
ARGS = (2, 2)


def flags(fs):
    pass


def main(app, opts, args):
    old, new = args[0].strip(), args[1].strip()
    if not old or not new:
        raise CLIError("Neither old nor new names may be empty")
    try:
        app.api.request("POST", path("/containers/{}/rename", old), {"name": new}).read()
    except CLIError as e:
        raise CLIError(f"{e.message}\nError: failed to rename container named {old}") from None
    return 0
