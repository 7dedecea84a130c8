"""dockyard events / system events: the daemon's event stream."""
from __future__ import annotations

import json
import sys
import time

from .. import filters, formatter
from ..errors import CLIError
from ..template import TemplateError
from ..units import parse_timestamp

USAGE = "[OPTIONS]"
SHORT = "Get real time events from the server"
ARGS = (0, 0)


def flags(fs):
    filters.add_flag(fs)
    fs.string("format", None, help="Format output using a custom template")
    fs.string("since", None, help="Show all events created since timestamp")
    fs.string("until", None, help="Stream events until this timestamp")


def _stamp(ns: int) -> str:
    secs, frac = divmod(ns, 1_000_000_000)
    lt = time.localtime(secs)
    off = time.strftime("%z", lt)
    zone = "Z" if off in ("+0000", "-0000") else f"{off[:3]}:{off[3:]}"
    return time.strftime("%Y-%m-%dT%H:%M:%S", lt) + f".{frac:09d}" + zone


def plain(ev: dict) -> str:
    ns = ev.get("timeNano") or (ev.get("time") or 0) * 1_000_000_000
    actor = ev.get("Actor") or {}
    line = f"{_stamp(ns)} {ev.get('Type', '')} {ev.get('Action', '')} {actor.get('ID', '')}"
    attrs = actor.get("Attributes") or {}
    if attrs:
        line += " (" + ", ".join(f"{k}={v}" for k, v in sorted(attrs.items())) + ")"
    return line


def main(app, opts, args):
    q = {}
    for name in ("since", "until"):
        v = getattr(opts, name)
        if v:
            try:
                q[name] = parse_timestamp(v)
            except ValueError as e:
                raise CLIError(str(e)) from None
    f = filters.to_json(opts.filter)
    if f:
        q["filters"] = f
    tmpl = formatter.parse(opts.format) if opts.format else None
    resp = app.api.request("GET", "/events", q)
    try:
        for line in resp.iter_lines():
            ev = json.loads(line)
            if tmpl is None:
                sys.stdout.write(plain(ev) + "\n")
            else:
                try:
                    sys.stdout.write(tmpl.execute(ev) + "\n")
                except TemplateError as e:
                    raise CLIError(f"template parsing error: {e}") from None
            sys.stdout.flush()
    finally:
        resp.close()
    return 0
