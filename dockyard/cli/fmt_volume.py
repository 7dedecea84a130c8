"""The fields ``volume ls --format`` offers (docker's volumeContext)."""
from __future__ import annotations

import re

from .units import human_size

DEFAULT_TABLE = "table {{.Driver}}\t{{.Name}}"
HEADER = {"Name": "VOLUME NAME", "Driver": "DRIVER", "Scope": "SCOPE", "Mountpoint": "MOUNTPOINT",
          "Labels": "LABELS", "Links": "LINKS", "Size": "SIZE", "Group": "GROUP", "Availability": "AVAILABILITY",
          "Status": "STATUS"}


def volume_format(source: str, quiet: bool) -> str:
    if source == "table":
        return "{{.Name}}" if quiet else DEFAULT_TABLE
    if source == "raw":
        return "name: {{.Name}}\n" if quiet else "name: {{.Name}}\ndriver: {{.Driver}}\n"
    return "{{.Name}}" if quiet else source


def natural_key(s: str):
    """sortorder.NaturalLess: digit runs compare as numbers."""
    return [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.findall(r"\d+|\D+", s)]


class VolumeContext:
    GO_TYPE = "*formatter.volumeContext"

    def __init__(self, v: dict):
        self.v = v

    def Name(self) -> str:
        return self.v.get("Name") or ""

    def Driver(self) -> str:
        return self.v.get("Driver") or ""

    def Scope(self) -> str:
        return self.v.get("Scope") or ""

    def Mountpoint(self) -> str:
        return self.v.get("Mountpoint") or ""

    def Labels(self) -> str:
        labels = self.v.get("Labels")
        if not labels:
            return ""
        return ",".join(f"{k}={v}" for k, v in labels.items())

    def Label(self, name: str) -> str:
        return (self.v.get("Labels") or {}).get(name, "")

    def Links(self) -> str:
        u = self.v.get("UsageData")
        return "N/A" if not u else str(u.get("RefCount", 0))

    def Size(self) -> str:
        u = self.v.get("UsageData")
        return "N/A" if not u else human_size(u.get("Size", 0))

    def Group(self) -> str:
        return ""

    def Availability(self) -> str:
        return "N/A"

    def Status(self) -> str:
        return "N/A"

    def MarshalJSON(self) -> dict:
        return {"Availability": self.Availability(), "Driver": self.Driver(), "Group": self.Group(),
                "Labels": self.Labels(), "Links": self.Links(), "Mountpoint": self.Mountpoint(), "Name": self.Name(),
                "Scope": self.Scope(), "Size": self.Size(), "Status": self.Status()}
