"""dockyard import: a filesystem tarball (file, URL or - for stdin) as an image."""
from __future__ import annotations

import sys

from .. import jsonmessage
from ..errors import CLIError
from ..reference import RefError, parse

USAGE = "[OPTIONS] file|URL|- [REPOSITORY[:TAG]]"
SHORT = "Import the contents from a tarball to create a filesystem image"
ARGS = (1, 2)


def flags(fs):
    fs.list("change", "c", help="Apply Dockerfile instruction to the created image")
    fs.string("message", "m", help="Set commit message for imported image")
    fs.string("platform", None, help="Set platform if server is multi-platform capable")


def main(app, opts, args):
    source = args[0]
    q: list = [("fromSrc", source if source != "-" and "://" in source else "-")]
    if len(args) > 1:
        try:
            ref = parse(args[1])
        except RefError as e:
            raise CLIError(str(e)) from None
        q.append(("repo", ref.familiar_name()))
        if ref.tag:
            q.append(("tag", ref.tag))
    if opts.message:
        q.append(("message", opts.message))
    if opts.platform:
        q.append(("platform", opts.platform))
    q += [("changes", c) for c in opts.change]
    body = None
    close = None
    if source == "-":
        body = sys.stdin.buffer
    elif "://" not in source:
        try:
            body = close = open(source, "rb")
        except OSError as e:
            raise CLIError(f"open {source}: {(e.strerror or str(e)).lower()}") from None
    try:
        resp = app.api.request("POST", "/images/create", q, body=body if body is not None else b"",
                               headers={"Content-Type": "application/x-tar"} if body is not None else None)
    finally:
        if close is not None:
            close.close()
    try:
        jsonmessage.display_stream(resp.iter_lines(), sys.stdout, False)
    finally:
        resp.close()
    return 0
