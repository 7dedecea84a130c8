"""dockyard export: a container's filesystem as a tar archive."""
from __future__ import annotations

import sys

from .. import term
from ..bulk import path
from ..errors import CLIError
from .save import _copy

USAGE = "[OPTIONS] CONTAINER"
SHORT = "Export a container's filesystem as a tar archive"
ARGS = (1, 1)


def flags(fs):
    fs.string("output", "o", help="Write to a file, instead of STDOUT")


def main(app, opts, args):
    if not opts.output and term.is_tty(1):
        raise CLIError("cowardly refusing to save to a terminal. Use the -o flag or redirect")
    resp = app.api.request("GET", path("/containers/{}/export", args[0]))
    if opts.output:
        import os
        tmp = opts.output + ".dockyard-tmp"
        try:
            with open(tmp, "wb") as f:
                _copy(resp, f.write)
            os.replace(tmp, opts.output)
        except OSError as e:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise CLIError(f"failed to export container: {e}") from None
    else:
        _copy(resp, sys.stdout.buffer.write)
        sys.stdout.buffer.flush()
    return 0
