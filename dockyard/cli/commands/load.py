"""dockyard load: images from a tar archive (stdin or -i)."""
from __future__ import annotations

import sys

from .. import jsonmessage, term
from ..errors import CLIError

USAGE = "[OPTIONS]"
SHORT = "Load an image from a tar archive or STDIN"
ARGS = (0, 0)


def flags(fs):
    fs.string("input", "i", help="Read from tar archive file, instead of STDIN")
    fs.list("platform", None, help="Load only the given platform(s)")
    fs.bool("quiet", "q", help="Suppress the load output")


def main(app, opts, args):
    if opts.input:
        try:
            src = open(opts.input, "rb")
        except OSError as e:
            raise CLIError(f"open {opts.input}: {(e.strerror or str(e)).lower()}") from None
    else:
        if term.is_tty(0):
            raise CLIError("requested load from stdin, but stdin is empty")
        src = sys.stdin.buffer
    q = {}
    quiet = opts.quiet or not term.is_tty(1)
    if quiet:
        q["quiet"] = 1
    if opts.platform:
        q["platform"] = opts.platform
    try:
        resp = app.api.request("POST", "/images/load", q, body=src, headers={"Content-Type": "application/x-tar"})
    finally:
        if opts.input:
            src.close()
    ctype = resp.header("content-type")
    try:
        if "json" in ctype:
            tty = term.is_tty(1)
            jsonmessage.display_stream(resp.iter_lines(), sys.stdout, tty)
        else:
            sys.stdout.buffer.write(resp.read())
    finally:
        resp.close()
    return 0
