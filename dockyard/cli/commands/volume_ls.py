"""dockyard volume ls."""
from __future__ import annotations

import sys

from .. import filters, formatter
from ..fmt_volume import HEADER, VolumeContext, natural_key, volume_format

USAGE = "[OPTIONS]"
SHORT = "List volumes"
ARGS = (0, 0)


def flags(fs):
    filters.add_flag(fs, "Provide filter values (e.g. \"dangling=true\")")
    fs.string("format", None, help="Format output using a custom template")
    fs.bool("quiet", "q", help="Only display volume names")


def main(app, opts, args):
    f = filters.to_json(opts.filter)
    resp = app.api.get("/volumes", {"filters": f} if f else None) or {}
    vols = sorted(resp.get("Volumes") or [], key=lambda v: natural_key(v.get("Name") or ""))
    fmt = volume_format(opts.format or "table", opts.quiet)
    formatter.write(sys.stdout, fmt, [VolumeContext(v) for v in vols], HEADER)
    for w in resp.get("Warnings") or []:
        app.err(w)
    return 0
