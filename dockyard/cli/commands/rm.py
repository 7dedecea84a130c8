"""dockyard rm: remove containers (-f kills running ones, -v removes their anonymous volumes)."""
from __future__ import annotations

from ..bulk import SKIP, each, path
from ..errors import APIError, CLIError

USAGE = "[OPTIONS] CONTAINER [CONTAINER...]"
SHORT = "Remove one or more containers"
ARGS = (1, None)
ALIASES = ["container rm", "container remove", "rm"]


def flags(fs):
    fs.bool("force", "f", help="Force the removal of a running container (uses SIGKILL)")
    fs.bool("link", "l", help="Remove the specified link")
    fs.bool("volumes", "v", help="Remove anonymous volumes associated with the container")


def main(app, opts, args):
    q = {}
    if opts.volumes:
        q["v"] = 1
    if opts.link:
        q["link"] = 1
    if opts.force:
        q["force"] = 1

    def rm(name):
        name = name.strip("/")
        if not name:
            raise CLIError("Container name cannot be empty")
        try:
            app.api.request("DELETE", path("/containers/{}", name), q).read()
        except APIError as e:
            if opts.force and e.status_code == 404:
                app.err(e.message)  # docker reports it, but -f does not fail on a missing container
                return SKIP
            raise
        return name
    return each(app, args, rm)
