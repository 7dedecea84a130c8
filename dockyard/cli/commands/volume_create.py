"""dockyard volume create."""
from __future__ import annotations

from ..errors import CLIError
from ..opts.env import kv_map

USAGE = "[OPTIONS] [VOLUME]"
SHORT = "Create a volume"
ARGS = (0, 1)


def flags(fs):
    fs.string("driver", "d", default="local", help="Specify volume driver name")
    fs.list("label", None, help="Set metadata for a volume")
    fs.string("name", None, help="Specify volume name", hidden=True)
    fs.list("opt", "o", help="Set driver specific options")


def main(app, opts, args):
    name = opts.name
    if args:
        if name and name != args[0]:
            raise CLIError("conflicting options: cannot specify a volume-name through both --name and as a "
                           "positional arg")
        name = args[0]
    body = {"Driver": opts.driver, "DriverOpts": kv_map(opts.opt), "Labels": kv_map(opts.label), "Name": name}
    vol = app.api.post("/volumes/create", json_body=body) or {}
    app.out(vol.get("Name", ""))
    return 0
