"""dockyard container prune: remove all stopped containers."""
from __future__ import annotations

from .. import filters
from ..prompt import confirm_or_cancel
from ..units import human_size

USAGE = "[OPTIONS]"
SHORT = "Remove all stopped containers"
ARGS = (0, 0)


def flags(fs):
    filters.add_flag(fs, 'Provide filter values (e.g. "until=<timestamp>")')
    fs.bool("force", "f", help="Do not prompt for confirmation")


def prune(app, flt) -> tuple[int, str]:
    q = {"filters": filters.to_json(flt)} if flt else None
    report = app.api.post("/containers/prune", q) or {}
    out = ""
    deleted = report.get("ContainersDeleted") or []
    if deleted:
        out = "Deleted Containers:\n" + "".join(f"{c}\n" for c in deleted) + "\n"
    return int(report.get("SpaceReclaimed") or 0), out


def main(app, opts, args):
    if not opts.force:
        confirm_or_cancel("WARNING! This will remove all stopped containers.", "container prune")
    space, out = prune(app, opts.filter)
    app.out(out + f"Total reclaimed space: {human_size(space)}")
    return 0
