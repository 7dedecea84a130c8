"""dockyard save: images to a tar archive (stdout or -o)."""
from __future__ import annotations

import os
import sys

from .. import term
from ..errors import CLIError

USAGE = "[OPTIONS] IMAGE [IMAGE...]"
SHORT = "Save one or more images to a tar archive (streamed to STDOUT by default)"
ARGS = (1, None)


def flags(fs):
    fs.string("output", "o", help="Write to a file, instead of STDOUT")
    fs.list("platform", None, help="Save only the given platform(s)")


def main(app, opts, args):
    if not opts.output and term.is_tty(1):
        raise CLIError("cowardly refusing to save to a terminal. Use the -o flag or redirect")
    query = [("names", n) for n in args] + [("platform", p) for p in opts.platform]
    resp = app.api.request("GET", "/images/get", query)
    if opts.output:
        d = os.path.dirname(os.path.abspath(opts.output))
        if not os.path.isdir(d):
            resp.close()
            raise CLIError(f"failed to save image: invalid output path: directory \"{d}\" does not exist")
        tmp = opts.output + ".dockyard-tmp"
        try:
            with open(tmp, "wb") as f:
                _copy(resp, f.write)
            os.replace(tmp, opts.output)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
    else:
        out = sys.stdout.buffer
        _copy(resp, out.write)
        out.flush()
    return 0


def _copy(resp, write) -> None:
    try:
        while True:
            d = resp.read1()
            if not d:
                return
            write(d)
    finally:
        resp.close()
