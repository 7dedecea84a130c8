"""dockyard attach: connect the terminal to a running container's streams."""
from __future__ import annotations

import json

from .. import streams, term
from ..attached import detach_keys
from ..bulk import path
from ..errors import CLIError, StatusError
from ..interactive import Session

USAGE = "[OPTIONS] CONTAINER"
SHORT = "Attach local standard input, output, and error streams to a running container"
ARGS = (1, 1)


def flags(fs):
    fs.string("detach-keys", None, help="Override the key sequence for detaching a container")
    fs.bool("no-stdin", None, help="Do not attach STDIN")
    fs.add("sig-proxy", None, "bool", True, help="Proxy all received signals to the process")


def _check_state(c: dict) -> None:
    st = c.get("State") or {}
    if not st.get("Running"):
        raise CLIError("You cannot attach to a stopped container, start it first")
    if st.get("Paused"):
        raise CLIError("You cannot attach to a paused container, unpause it first")
    if st.get("Restarting"):
        raise CLIError("You cannot attach to a restarting container, wait until it is running")


def main(app, opts, args):
    api = app.api
    name = args[0]
    c = api.get(path("/containers/{}/json", name))
    _check_state(c)
    cfg = c.get("Config") or {}
    tty = bool(cfg.get("Tty"))
    if not opts.no_stdin and tty and not term.is_tty(0):
        raise CLIError("the input device is not a TTY")
    stdin = not opts.no_stdin and bool(cfg.get("OpenStdin"))
    q = {"stream": 1, "stdout": 1, "stderr": 1}
    if stdin:
        q["stdin"] = 1
    if opts.detach_keys:
        q["detachKeys"] = opts.detach_keys
    cid = c["Id"]
    session = Session(api, raw_fd=0 if (tty and stdin and term.is_tty(0)) else None,
                      resize_path=f"/containers/{cid}/resize" if (tty and term.is_tty(1)) else None,
                      proxy_path=f"/containers/{cid}/kill" if (not tty and opts.sig_proxy) else None)
    with session:
        sock, leftover, _ = api.hijack(path("/containers/{}/attach", name), q)
        _check_state(api.get(path("/containers/{}/json", name)))
        session.initial_resize()
        if streams.pump(sock, leftover, tty=tty, stdin_fd=0 if stdin else None,
                        detach_keys=detach_keys(opts.detach_keys)):
            raise CLIError("read escape sequence")
    resp = api.request("POST", path("/containers/{}/wait", name), conn=api.new_conn())
    doc = json.loads(resp.read() or b"{}")
    err = doc.get("Error") or {}
    if err.get("Message"):
        raise CLIError(err["Message"])
    if doc.get("StatusCode"):
        raise StatusError(int(doc["StatusCode"]))
    return 0
