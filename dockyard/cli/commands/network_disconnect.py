"""dockyard network disconnect."""
from __future__ import annotations

from ..bulk import path

USAGE = "[OPTIONS] NETWORK CONTAINER"
SHORT = "Disconnect a container from a network"
ARGS = (2, 2)


def flags(fs):
    fs.bool("force", "f", help="Force the container to disconnect from a network")


def main(app, opts, args):
    body = {"Container": args[1], "Force": bool(opts.force)}
    app.api.request("POST", path("/networks/{}/disconnect", args[0]), json_body=body).read()
    return 0
