"""dockyard history: the layers of an image."""
from __future__ import annotations

import sys
import time

from .. import formatter
from ..bulk import path
from ..fmt_image import HISTORY_HEADER, HISTORY_TABLE, HistoryContext

USAGE = "[OPTIONS] IMAGE"
SHORT = "Show the history of an image"
ARGS = (1, 1)


def flags(fs):
    fs.string("format", None, help="Format output using a custom template")
    fs.add("human", "H", "bool", True, help="Print sizes and dates in human readable format")
    fs.bool("no-trunc", None, help="Don't truncate output")
    fs.string("platform", None, help="Show history for the given platform")
    fs.bool("quiet", "q", help="Only show image IDs")


def main(app, opts, args):
    q = {"platform": opts.platform} if opts.platform else None
    hist = app.api.get(path("/images/{}/history", args[0]), q) or []
    fmt = opts.format or "table"
    if fmt == "table":
        fmt = "{{.ID}}" if opts.quiet else HISTORY_TABLE
    elif opts.quiet:
        fmt = "{{.ID}}"
    now = time.time()
    ctxs = [HistoryContext(h, trunc=not opts.no_trunc, human=opts.human, now=now) for h in hist]
    formatter.write(sys.stdout, fmt, ctxs, HISTORY_HEADER)
    return 0
