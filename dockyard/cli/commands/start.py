"""dockyard start: start containers; with -a/-i, attach to one and exit with its status."""
from __future__ import annotations

from ..attached import Detached, start_attached
from ..bulk import path
from ..errors import APIError, CLIError, StatusError

USAGE = "[OPTIONS] CONTAINER [CONTAINER...]"
SHORT = "Start one or more stopped containers"
ARGS = (1, None)


def flags(fs):
    fs.bool("attach", "a", help="Attach STDOUT/STDERR and forward signals")
    fs.string("detach-keys", None, help="Override the key sequence for detaching a container")
    fs.bool("interactive", "i", help="Attach container's STDIN")


def main(app, opts, args):
    api = app.api
    if opts.attach or opts.interactive:
        if len(args) > 1:
            raise CLIError("you cannot start and attach multiple containers at once")
        c = api.get(path("/containers/{}/json", args[0]))
        cfg, hc = c.get("Config") or {}, c.get("HostConfig") or {}
        tty = bool(cfg.get("Tty"))
        stdin = bool(opts.interactive and cfg.get("OpenStdin"))
        if stdin and tty:
            from .. import term
            if not term.is_tty(0):
                raise CLIError("the input device is not a TTY")
        try:
            status = start_attached(api, c["Id"], tty=tty, stdin=stdin, stdout=True, stderr=True,
                                    keys=opts.detach_keys, auto_remove=bool(hc.get("AutoRemove")), sig_proxy=True)
        except Detached:
            return 0
        if status != 0:
            raise StatusError(status)
        return 0
    failed = []
    for name in args:
        try:
            api.request("POST", path("/containers/{}/start", name)).read()
        except APIError as e:
            app.err(e.message)
            failed.append(name)
            continue
        app.out(name)
    if failed:
        raise CLIError(f"Error: failed to start containers: {', '.join(failed)}")
    return 0
