"""dockyard rmi / image rm: remove images."""
from __future__ import annotations

from ..bulk import path
from ..errors import CLIError

USAGE = "[OPTIONS] IMAGE [IMAGE...]"
SHORT = "Remove one or more images"
ARGS = (1, None)
ALIASES = ["image rm", "image remove", "rmi"]


def flags(fs):
    fs.bool("force", "f", help="Force removal of the image")
    fs.bool("no-prune", None, help="Do not delete untagged parents")


def main(app, opts, args):
    q = {}
    if opts.force:
        q["force"] = 1
    if opts.no_prune:
        q["noprune"] = 1
    errors = []
    for name in args:
        try:
            items = app.api.delete(path("/images/{}", name), q) or []
        except CLIError as e:
            errors.append(e.message)
            continue
        for item in items:
            if item.get("Untagged"):
                app.out(f"Untagged: {item['Untagged']}")
            if item.get("Deleted"):
                app.out(f"Deleted: {item['Deleted']}")
    if errors:
        raise CLIError("\n".join(errors))
    return 0
