"""``--filter key=value`` flags → the ``filters`` query parameter (JSON map of key → {value: true})."""
from __future__ import annotations

import json


def parse_filter(value: str) -> str:
    """Flag-time validation (docker's FilterOpt.Set)."""
    if "=" not in value:
        raise ValueError("bad format of filter (expected name=value)")
    return value


def to_json(values: list[str]) -> str | None:
    if not values:
        return None
    out: dict[str, dict[str, bool]] = {}
    for v in values:
        k, _, val = v.partition("=")
        out.setdefault(k.strip().lower(), {})[val.strip()] = True
    return json.dumps(out, separators=(",", ":"))


def add_flag(fs, help: str = "Filter output based on conditions provided") -> None:
    fs.add("filter", "f", "list", help=help, metavar="filter", conv=parse_filter)
