"""dockyard network prune: remove user-defined networks no container uses."""
from __future__ import annotations

from .. import filters
from ..prompt import confirm_or_cancel

USAGE = "[OPTIONS]"
SHORT = "Remove all unused networks"
ARGS = (0, 0)


def flags(fs):
    filters.add_flag(fs, 'Provide filter values (e.g. "until=<timestamp>")')
    fs.bool("force", "f", help="Do not prompt for confirmation")


def prune(app, flt) -> str:
    q = {"filters": filters.to_json(flt)} if flt else None
    report = app.api.post("/networks/prune", q) or {}
    deleted = report.get("NetworksDeleted") or []
    return "Deleted Networks:\n" + "".join(f"{n}\n" for n in deleted) if deleted else ""


def main(app, opts, args):
    if not opts.force:
        confirm_or_cancel("WARNING! This will remove all custom networks not used by at least one container.",
                          "network prune")
    out = prune(app, opts.filter)
    if out:
        app.out(out)
    return 0
