"""dockyard image prune: remove unused images (dangling ones, or all unused with -a)."""
from __future__ import annotations

from .. import filters
from ..prompt import confirm_or_cancel
from ..units import human_size

USAGE = "[OPTIONS]"
SHORT = "Remove unused images"
ARGS = (0, 0)

WARNING = "WARNING! This will remove all dangling images."
WARNING_ALL = "WARNING! This will remove all images without at least one container associated to them."


def flags(fs):
    fs.bool("all", "a", help="Remove all unused images, not just dangling ones")
    filters.add_flag(fs, 'Provide filter values (e.g. "until=<timestamp>")')
    fs.bool("force", "f", help="Do not prompt for confirmation")


def prune(app, all_: bool, flt) -> tuple[int, str]:
    values = list(flt) + [f"dangling={'false' if all_ else 'true'}"]
    report = app.api.post("/images/prune", {"filters": filters.to_json(values)}) or {}
    out = ""
    deleted = report.get("ImagesDeleted") or []
    if deleted:
        out = "Deleted Images:\n"
        for d in deleted:
            if d.get("Untagged"):
                out += f"untagged: {d['Untagged']}\n"
            else:
                out += f"deleted: {d.get('Deleted', '')}\n"
        out += "\n"
    return int(report.get("SpaceReclaimed") or 0), out


def main(app, opts, args):
    if not opts.force:
        confirm_or_cancel(WARNING_ALL if opts.all else WARNING, "image prune")
    space, out = prune(app, opts.all, opts.filter)
    app.out(out + f"Total reclaimed space: {human_size(space)}")
    return 0
