"""dockyard volume prune: remove unused volumes (anonymous ones; all unused with -a)."""
from __future__ import annotations

from .. import filters
from ..errors import CLIError
from ..prompt import confirm_or_cancel
from ..units import human_size

USAGE = "[OPTIONS]"
SHORT = "Remove unused local volumes"
ARGS = (0, 0)


def flags(fs):
    fs.bool("all", "a", help="Remove all unused volumes, not just anonymous ones")
    filters.add_flag(fs, 'Provide filter values (e.g. "label=<label>")')
    fs.bool("force", "f", help="Do not prompt for confirmation")


def prune(app, all_: bool, flt) -> tuple[int, str]:
    values = list(flt)
    if all_:
        if not app.api.at_least("1.42"):
            raise CLIError(f'"--all" requires API version 1.42, but the daemon API version is {app.api.version}')
        values.append("all=true")
    q = {"filters": filters.to_json(values)} if values else None
    report = app.api.post("/volumes/prune", q) or {}
    out = ""
    deleted = report.get("VolumesDeleted") or []
    if deleted:
        out = "Deleted Volumes:\n" + "".join(f"{v}\n" for v in deleted) + "\n"
    return int(report.get("SpaceReclaimed") or 0), out


def main(app, opts, args):
    if not opts.force:
        # before API 1.42 the daemon prunes named volumes too, and docker's warning says so
        msg = "WARNING! This will remove all local volumes not used by at least one container." \
            if opts.all or not app.api.at_least("1.42") \
            else "WARNING! This will remove anonymous local volumes not used by at least one container."
        confirm_or_cancel(msg, "volume prune")
    space, out = prune(app, opts.all, opts.filter)
    app.out(out + f"Total reclaimed space: {human_size(space)}")
    return 0
