"""dockyard system df: disk usage of images, containers, volumes and build cache."""
from __future__ import annotations

import sys

from .. import formatter
from ..units import human_size

USAGE = "[OPTIONS]"
SHORT = "Show docker disk usage"
ARGS = (0, 0)

TABLE = "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}"
HEADER = {"Type": "TYPE", "TotalCount": "TOTAL", "Active": "ACTIVE", "Size": "SIZE", "Reclaimable": "RECLAIMABLE"}


def flags(fs):
    fs.string("format", None, help="Format output using a custom template")


def _pct(part: int, total: int) -> str:
    return f"{human_size(part)} ({part * 100 // total}%)" if total > 0 else human_size(part)


class Row:
    GO_TYPE = "*formatter.diskUsageContext"

    def __init__(self, typ, total, active, size, reclaimable):
        self._v = {"Type": typ, "TotalCount": str(total), "Active": str(active), "Size": size,
                   "Reclaimable": reclaimable}

    def Type(self):
        return self._v["Type"]

    def TotalCount(self):
        return self._v["TotalCount"]

    def Active(self):
        return self._v["Active"]

    def Size(self):
        return self._v["Size"]

    def Reclaimable(self):
        return self._v["Reclaimable"]

    def MarshalJSON(self):
        return dict(self._v)


def rows(du: dict) -> list[Row]:
    images = du.get("Images") or []
    layers = int(du.get("LayersSize") or 0)
    used = sum((i.get("Size") or 0) - (i.get("SharedSize") or 0) for i in images
               if i.get("Containers") and i.get("Size", -1) != -1 and i.get("SharedSize", -1) != -1)
    out = [Row("Images", len(images), sum(1 for i in images if i.get("Containers")), human_size(layers),
               _pct(layers - used, layers))]
    cs = du.get("Containers") or []
    active = [c for c in cs if any(s in (c.get("State") or "") for s in ("running", "paused", "restarting"))]
    csize = sum(c.get("SizeRw") or 0 for c in cs)
    crecl = sum(c.get("SizeRw") or 0 for c in cs if c not in active)
    out.append(Row("Containers", len(cs), len(active), human_size(csize), _pct(crecl, csize)))
    vols = du.get("Volumes") or []
    vsize = sum(max((v.get("UsageData") or {}).get("Size", 0), 0) for v in vols)
    vrecl = sum(max((v.get("UsageData") or {}).get("Size", 0), 0) for v in vols
                if (v.get("UsageData") or {}).get("RefCount", 0) == 0)
    out.append(Row("Local Volumes", len(vols), sum(1 for v in vols if (v.get("UsageData") or {}).get("RefCount", 0) > 0),
                   human_size(vsize), _pct(vrecl, vsize)))
    bc = du.get("BuildCache") or []
    bsize = sum(b.get("Size") or 0 for b in bc if not b.get("Shared"))
    brecl = sum(b.get("Size") or 0 for b in bc if not b.get("InUse") and not b.get("Shared"))
    out.append(Row("Build Cache", len(bc), sum(1 for b in bc if b.get("InUse")), human_size(bsize),
                   human_size(brecl)))
    return out


def main(app, opts, args):
    du = app.api.get("/system/df") or {}
    formatter.write(sys.stdout, opts.format or TABLE, rows(du), HEADER)
    return 0
