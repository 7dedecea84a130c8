"""Creating a container as docker's CLI does: the body from the flags, the pull when the image is
missing, the container ID file, and the exit statuses ``run`` derives from errors."""
from __future__ import annotations

import os
import re
import sys

from .errors import PROG, APIError, CLIError
from .opts.container import ConfigError, build
from .reference import RefError, parse

_ID = re.compile(r"^(sha256:)?[a-f0-9]{64}$")


def run_status_error(err: Exception, verb: str = "run") -> CLIError:
    """docker's toStatusError: 127 when the command is not found, 126 when it cannot be run, else 125."""
    msg = str(err)
    text = f"{PROG}: {msg}\n\nRun '{PROG} {verb} --help' for more information"
    if "executable file not found" in msg or "no such file or directory" in msg \
            or "system cannot find the file specified" in msg:
        return CLIError(text, 127)
    if "permission denied" in msg or "is a directory" in msg:
        return CLIError(text, 126)
    return CLIError(text, 125)


def config_error(e: ConfigError, verb: str) -> CLIError:
    return CLIError(f"{PROG}: {e}\n\nRun '{PROG} {verb} --help' for more information", 125)


class CIDFile:
    def __init__(self, path: str):
        self.path = path
        self.written = False
        if path and os.path.exists(path):
            raise CLIError(f"container ID file found, make sure the other container isn't running or delete {path}")

    def write(self, cid: str) -> None:
        if not self.path:
            return
        try:
            with open(self.path, "x") as f:
                f.write(cid)
        except OSError as e:
            raise CLIError(f"failed to create the container ID file: {e}") from None
        self.written = True


def create(app, opts, image: str, args: list[str], body: dict, verb: str) -> str:
    """POST /containers/create, pulling the image first when it is missing (``--pull``)."""
    query = {}
    if opts.name:
        query["name"] = opts.name
    if opts.platform:
        query["platform"] = opts.platform
    try:
        ref = parse(image).with_default_tag()
    except RefError as e:
        if not _ID.match(image):
            raise config_error(ConfigError(str(e)), verb) from None
        ref = None  # an image ID: nothing to pull
    cid_file = CIDFile(opts.cidfile)
    if opts.pull == "always":
        from . import pulling
        if ref is None:
            raise CLIError("invalid reference format", 125)
        pulling.pull(app, ref, opts.platform, out=sys.stderr, quiet=opts.quiet)
    try:
        resp = app.api.post("/containers/create", query, json_body=body)
    except APIError as e:
        if e.status_code == 404 and ref is not None and opts.pull == "missing":
            app.err(f"Unable to find image '{ref.familiar()}' locally")
            from . import pulling
            pulling.pull(app, ref, opts.platform, out=sys.stderr, quiet=opts.quiet)
            resp = app.api.post("/containers/create", query, json_body=body)
        else:
            raise
    for w in (resp or {}).get("Warnings") or []:
        app.err(f"WARNING: {w}")
    cid = resp["Id"]
    cid_file.write(cid)
    return cid


def build_body(app, opts, image: str, args: list[str], verb: str, console_size=(0, 0)) -> dict:
    try:
        return build(opts, image, args, app.env, console_size)
    except ConfigError as e:
        raise config_error(e, verb) from None
