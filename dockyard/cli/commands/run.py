"""dockyard run: create, attach, start, stream, and exit with the container's status."""
from __future__ import annotations

from .. import term
from ..attached import Detached, start_attached
from ..bulk import call
from ..containers import build_body, create, run_status_error
from ..errors import PROG, APIError, CLIError, StatusError
from ..opts.container import add_flags

USAGE = "[OPTIONS] IMAGE [COMMAND] [ARG...]"
SHORT = "Create and run a new container from an image"
ARGS = (1, None)
INTERSPERSED = False
ALIASES = ["container run", "run"]


def flags(fs):
    add_flags(fs, run=True)


def main(app, opts, args):
    image, cmd = args[0], args[1:]
    if opts.detach and opts.attach:
        raise CLIError(f"{PROG}: conflicting options: cannot specify both --attach and --detach\n\n"
                       f"Run '{PROG} run --help' for more information", 125)
    console = (0, 0)
    if opts.tty and term.is_tty(1):
        console = term.get_size(1) or (0, 0)
    body = build_body(app, opts, image, cmd, "run", console)
    if opts.detach:
        body["AttachStdin"] = body["AttachStdout"] = body["AttachStderr"] = False
        body["StdinOnce"] = False
    elif body["AttachStdin"] and opts.tty and not term.is_tty(0):
        raise CLIError("the input device is not a TTY", 1)
    try:
        cid = create(app, opts, image, cmd, body, "run")
        if opts.detach:
            call(app, "POST", f"/containers/{cid}/start")
            app.out(cid)
            return 0
        status = start_attached(app.api, cid, tty=opts.tty, stdin=body["AttachStdin"],
                                stdout=body["AttachStdout"], stderr=body["AttachStderr"], keys=opts.detach_keys,
                                auto_remove=opts.rm, sig_proxy=opts.sig_proxy)
    except APIError as e:
        raise run_status_error(e) from None
    except Detached:
        return 0
    if status != 0:
        raise StatusError(status)
    return 0
