"""dockyard system prune: stopped containers, unused networks and images (and volumes with --volumes)."""
from __future__ import annotations

from ..errors import APIError
from ..prompt import confirm_or_cancel
from ..units import human_size
from . import container_prune, image_prune, volume_prune

USAGE = "[OPTIONS]"
SHORT = "Remove unused data"
ARGS = (0, 0)


def flags(fs):
    fs.bool("all", "a", help="Remove all unused images not just dangling ones")
    fs.add("filter", None, "list", help='Provide filter values (e.g. "label=<key>=<value>")', metavar="filter")
    fs.bool("force", "f", help="Do not prompt for confirmation")
    fs.bool("volumes", None, help="Prune anonymous volumes")


def main(app, opts, args):
    if not opts.force:
        items = ["all stopped containers", "all networks not used by at least one container"]
        if opts.volumes:
            items.append("all anonymous volumes not used by at least one container")
        items.append("all images without at least one container associated to them" if opts.all
                     else "all dangling images")
        items.append("all build cache" if opts.all else "unused build cache")
        msg = "WARNING! This will remove:\n" + "".join(f"  - {i}\n" for i in items)
        confirm_or_cancel(msg, "system prune")
    total = 0
    out = ""
    space, text = container_prune.prune(app, opts.filter)
    total += space
    out += text
    report = app.api.post("/networks/prune") or {}
    nets = report.get("NetworksDeleted") or []
    if nets:
        out += "Deleted Networks:\n" + "".join(f"{n}\n" for n in nets) + "\n"
    if opts.volumes:
        space, text = volume_prune.prune(app, False, opts.filter)
        total += space
        out += text
    space, text = image_prune.prune(app, opts.all, opts.filter)
    total += space
    out += text
    try:
        bc = app.api.post("/build/prune", {"all": 1} if opts.all else None) or {}
        total += int(bc.get("SpaceReclaimed") or 0)
        if bc.get("CachesDeleted"):
            out += "Deleted build cache objects:\n" + "".join(f"{c}\n" for c in bc["CachesDeleted"]) + "\n"
    except APIError as e:
        if e.status_code not in (404, 501):  # a daemon without a builder
            raise
    app.out(out + f"Total reclaimed space: {human_size(total)}")
    return 0
