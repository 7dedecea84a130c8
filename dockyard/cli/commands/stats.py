"""dockyard stats: CPU, memory, network, block I/O and PIDs of containers (once with --no-stream)."""
from __future__ import annotations

import io
import json
import sys
import time

from .. import formatter
from ..api import quote
from ..errors import CLIError
from ..fmt_stats import DEFAULT_TABLE, HEADER, StatsContext

USAGE = "[OPTIONS] [CONTAINER...]"
SHORT = "Display a live stream of container(s) resource usage statistics"
ARGS = (0, None)


def flags(fs):
    fs.bool("all", "a", help="Show all containers (default shows just running)")
    fs.string("format", None, help="Format output using a custom template")
    fs.bool("no-stream", None, help="Disable streaming stats and only pull the first result")
    fs.bool("no-trunc", None, help="Do not truncate output")


def _sample(app, name: str) -> dict:
    resp = app.api.request("GET", f"/containers/{quote(name)}/stats", {"stream": 0}, conn=app.api.new_conn())
    data = resp.read()
    try:
        return json.loads(data)
    except ValueError:
        raise CLIError(f"malformed stats from the daemon for {name}") from None


def main(app, opts, args):
    names = list(args)
    if not names:
        q = {"all": 1} if opts.all else None
        names = [c["Id"][:12] for c in app.api.get("/containers/json", q) or []]
    fmt = opts.format or "table"
    if fmt == "table":
        fmt = DEFAULT_TABLE
    while True:
        rows, errors = [], []
        for n in names:
            try:
                rows.append(StatsContext(n, _sample(app, n), trunc=not opts.no_trunc))
            except CLIError as e:
                if args:
                    errors.append(e.message)
        if errors:
            raise CLIError("\n".join(errors))
        buf = io.StringIO()
        formatter.write(buf, fmt, rows, HEADER)
        if opts.no_stream:
            sys.stdout.write(buf.getvalue())
            return 0
        if sys.stdout.isatty():
            sys.stdout.write("\x1b[2J\x1b[H")
        sys.stdout.write(buf.getvalue())
        sys.stdout.flush()
        time.sleep(0.5)
