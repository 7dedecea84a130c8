"""dockyard logs: print (or follow) a container's output."""
from __future__ import annotations

import sys

from .. import streams
from ..bulk import path
from ..errors import CLIError
from ..stdcopy import Demuxer
from ..units import parse_timestamp

USAGE = "[OPTIONS] CONTAINER"
SHORT = "Fetch the logs of a container"
ARGS = (1, 1)


def flags(fs):
    fs.bool("details", None, help="Show extra details provided to logs")
    fs.bool("follow", "f", help="Follow log output")
    fs.string("since", None, help='Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)')
    fs.string("tail", "n", default="all", help='Number of lines to show from the end of the logs')
    fs.bool("timestamps", "t", help="Show timestamps")
    fs.string("until", None, help='Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)')


def main(app, opts, args):
    api = app.api
    c = api.get(path("/containers/{}/json", args[0]))
    q = {"stderr": 1, "stdout": 1}
    for name in ("since", "until"):
        value = getattr(opts, name)
        if value:
            try:
                q[name] = parse_timestamp(value)
            except ValueError as e:
                raise CLIError(f'invalid value for "{name}": {e}') from None
    if opts.timestamps:
        q["timestamps"] = 1
    if opts.follow:
        q["follow"] = 1
    q["tail"] = opts.tail
    if opts.details:
        q["details"] = 1
    resp = api.request("GET", path("/containers/{}/logs", c["Id"]), q)
    out, err = streams.writer(sys.stdout), streams.writer(sys.stderr)
    tty = bool((c.get("Config") or {}).get("Tty"))
    demux = None if tty else Demuxer(out, err)
    try:
        while True:
            data = resp.read1()
            if not data:
                break
            if demux is None:
                out(data)
            else:
                demux.feed(data)
    finally:
        resp.close()
    return 0
