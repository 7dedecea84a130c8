"""dockyard images / image ls: list images."""
from __future__ import annotations

import sys

from .. import config, filters, formatter
from ..fmt_image import HEADER, image_contexts, image_format

USAGE = "[OPTIONS] [REPOSITORY[:TAG]]"
SHORT = "List images"
ARGS = (0, 1)
ALIASES = ["image ls", "image list", "images"]


def flags(fs):
    fs.bool("all", "a", help="Show all images (default hides intermediate images)")
    fs.bool("digests", None, help="Show digests")
    filters.add_flag(fs)
    fs.string("format", None, help="Format output using a custom template")
    fs.bool("no-trunc", None, help="Don't truncate output")
    fs.bool("quiet", "q", help="Only show image IDs")


def main(app, opts, args):
    flt = list(opts.filter)
    if args:
        flt.append(f"reference={args[0]}")
    query = {}
    if opts.all:
        query["all"] = 1
    f = filters.to_json(flt)
    if f:
        query["filters"] = f
    images = app.api.get("/images/json", query) or []
    fmt = opts.format
    if not fmt:
        fmt = (config.load(app.config_dir).get("imagesFormat") if not opts.quiet else "") or "table"
    final = image_format(fmt, opts.quiet, opts.digests)
    need_digest = opts.digests or "{{.Digest}}" in final
    ctxs = image_contexts(images, opts.digests, need_digest, trunc=not opts.no_trunc)
    formatter.write(sys.stdout, final, ctxs, HEADER)
    return 0
