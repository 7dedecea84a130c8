"""dockyard wait: print each container's exit code when it stops."""
from __future__ import annotations

import json

from ..bulk import each, path
from ..errors import CLIError

USAGE = "CONTAINER [CONTAINER...]"
SHORT = "Block until one or more containers stop, then print their exit codes"
ARGS = (1, None)


def flags(fs):
    pass


def main(app, opts, args):
    def wait(name):
        resp = app.api.request("POST", path("/containers/{}/wait", name), conn=app.api.new_conn())
        doc = json.loads(resp.read() or b"{}")
        err = doc.get("Error") or {}
        if err.get("Message"):
            raise CLIError(err["Message"])
        return doc.get("StatusCode", 0)
    return each(app, args, wait)
