"""dockyard top: the processes of a container (``ps`` options pass through)."""
from __future__ import annotations

import sys

from ..bulk import path
from ..tabwriter import align

USAGE = "CONTAINER [ps OPTIONS]"
SHORT = "Display the running processes of a container"
ARGS = (1, None)
INTERSPERSED = False


def flags(fs):
    pass


def main(app, opts, args):
    q = {"ps_args": " ".join(args[1:])} if len(args) > 1 else None
    top = app.api.get(path("/containers/{}/top", args[0]), q) or {}
    lines = ["\t".join(top.get("Titles") or [])]
    lines += ["\t".join(p) for p in top.get("Processes") or []]
    sys.stdout.write(align("\n".join(lines) + "\n", minwidth=20, padding=3))
    return 0
