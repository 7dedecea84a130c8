"""dockyard network ls: networks sorted by name, docker's table and ``--format`` fields."""
from __future__ import annotations

import sys

from .. import filters, formatter
from ..fmt_volume import natural_key

USAGE = "[OPTIONS]"
SHORT = "List networks"
ARGS = (0, 0)

DEFAULT_TABLE = "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}"
HEADER = {"ID": "NETWORK ID", "Name": "NAME", "Driver": "DRIVER", "Scope": "SCOPE", "IPv4": "IPV4",
          "IPv6": "IPV6", "Internal": "INTERNAL", "Labels": "LABELS", "CreatedAt": "CREATED AT"}


def flags(fs):
    filters.add_flag(fs, 'Provide filter values (e.g. "driver=bridge")')
    fs.string("format", None, help="Format output using a custom template")
    fs.bool("no-trunc", None, help="Do not truncate the output")
    fs.bool("quiet", "q", help="Only display network IDs")


def network_format(source: str, quiet: bool) -> str:
    if source == "table":
        return "{{.ID}}" if quiet else DEFAULT_TABLE
    if source == "raw":
        return "network_id: {{.ID}}" if quiet else \
            "network_id: {{.ID}}\nname: {{.Name}}\ndriver: {{.Driver}}\nscope: {{.Scope}}\n"
    return "{{.ID}}" if quiet else source


def go_time(rfc3339: str) -> str:
    """Go's time.Time.String() of an RFC 3339 UTC time: "2026-11-27 19:49:42.739117 +0000 UTC"."""
    text = rfc3339.rstrip("Z")
    date, _, clock = text.partition("T")
    whole, _, frac = clock.partition(".")
    frac = frac.rstrip("0")
    return f"{date} {whole}{'.' + frac if frac else ''} +0000 UTC"


class NetworkContext:
    GO_TYPE = "*formatter.networkContext"

    def __init__(self, n: dict, trunc: bool = True):
        self.n, self.trunc = n, trunc

    def ID(self) -> str:
        i = self.n.get("Id") or ""
        return i[:12] if self.trunc else i

    def Name(self) -> str:
        return self.n.get("Name") or ""

    def Driver(self) -> str:
        return self.n.get("Driver") or ""

    def Scope(self) -> str:
        return self.n.get("Scope") or ""

    def IPv4(self) -> str:
        return "true" if self.n.get("EnableIPv4") else "false"

    def IPv6(self) -> str:
        return "true" if self.n.get("EnableIPv6") else "false"

    def Internal(self) -> str:
        return "true" if self.n.get("Internal") else "false"

    def Labels(self) -> str:
        return ",".join(f"{k}={v}" for k, v in (self.n.get("Labels") or {}).items())

    def Label(self, name: str) -> str:
        return (self.n.get("Labels") or {}).get(name, "")

    def CreatedAt(self) -> str:
        return go_time(self.n.get("Created") or "0001-01-01T00:00:00Z")

    def MarshalJSON(self) -> dict:
        return {"CreatedAt": self.CreatedAt(), "Driver": self.Driver(), "ID": self.ID(), "IPv4": self.IPv4(),
                "IPv6": self.IPv6(), "Internal": self.Internal(), "Labels": self.Labels(), "Name": self.Name(),
                "Scope": self.Scope()}


def main(app, opts, args):
    f = filters.to_json(opts.filter)
    nets = app.api.get("/networks", {"filters": f} if f else None) or []
    nets.sort(key=lambda n: natural_key(n.get("Name") or ""))
    fmt = network_format(opts.format or "table", opts.quiet)
    formatter.write(sys.stdout, fmt, [NetworkContext(n, not opts.no_trunc) for n in nets], HEADER)
    return 0
