"""dockyard exec: run a command in a running container."""
from __future__ import annotations

from .. import streams, term
from ..attached import detach_keys
from ..bulk import path
from ..errors import CLIError, StatusError
from ..interactive import Session
from ..opts import env as envopts

USAGE = "[OPTIONS] CONTAINER COMMAND [ARG...]"
SHORT = "Execute a command in a running container"
ARGS = (2, None)
INTERSPERSED = False


def flags(fs):
    fs.bool("detach", "d", help="Detached mode: run command in the background")
    fs.string("detach-keys", None, help="Override the key sequence for detaching a container")
    fs.add("env", "e", "list", help="Set environment variables", conv=envopts.validate_env)
    fs.list("env-file", None, help="Read in a file of environment variables")
    fs.bool("interactive", "i", help="Keep STDIN open even if not attached")
    fs.bool("privileged", None, help="Give extended privileges to the command")
    fs.bool("tty", "t", help="Allocate a pseudo-TTY")
    fs.string("user", "u", help="Username or UID (format: \"<name|uid>[:<group|gid>]\")")
    fs.string("workdir", "w", help="Working directory inside the container")


def main(app, opts, args):
    api = app.api
    name, cmd = args[0], args[1:]
    api.get(path("/containers/{}/json", name))
    if not opts.detach and opts.interactive and opts.tty and not term.is_tty(0):
        raise CLIError("the input device is not a TTY")
    try:
        env = envopts.read_kv(opts.env_file, opts.env, app.env)
    except ValueError as e:
        raise CLIError(str(e)) from None
    body = {"User": opts.user, "Privileged": opts.privileged, "Tty": opts.tty,
            "AttachStdin": opts.interactive and not opts.detach, "AttachStderr": not opts.detach,
            "AttachStdout": not opts.detach, "Detach": opts.detach, "DetachKeys": opts.detach_keys,
            "Env": env or None, "WorkingDir": opts.workdir, "Cmd": cmd}
    created = api.post(path("/containers/{}/exec", name), json_body=body)
    eid = (created or {}).get("Id")
    if not eid:
        raise CLIError("exec ID empty")
    if opts.detach:
        api.request("POST", f"/exec/{eid}/start", json_body={"Detach": True, "Tty": opts.tty}).read()
        return 0
    stdin_fd = 0 if opts.interactive else None
    session = Session(api, raw_fd=0 if (opts.tty and opts.interactive and term.is_tty(0)) else None,
                      resize_path=f"/exec/{eid}/resize" if (opts.tty and term.is_tty(0)) else None)
    with session:
        sock, leftover, _ = api.hijack(f"/exec/{eid}/start", json_body={"Detach": False, "Tty": opts.tty})
        session.initial_resize()
        if streams.pump(sock, leftover, tty=opts.tty, stdin_fd=stdin_fd,
                        detach_keys=detach_keys(opts.detach_keys)):
            raise CLIError("read escape sequence")
    info = api.get(f"/exec/{eid}/json") or {}
    status = info.get("ExitCode")
    if status is None:
        status = -1
    if status != 0:
        raise StatusError(int(status))
    return 0
