"""Starting a container with the terminal attached (``run`` without -d, ``start -a``).

Order, as docker's: attach (hijack) → wait (next-exit, or removed when the daemon removes the
container; the answer's headers arrive before start, so the exit cannot be missed) → start →
resize (tty) → stream until the output ends → the wait's status.
"""
from __future__ import annotations

import json
import sys

from . import streams, term
from .errors import APIError
from .interactive import Session


class Detached(Exception):
    """The user typed the detach keys."""


def detach_keys(value: str) -> bytes:
    try:
        return term.detach_key_bytes(value or term.DEFAULT_DETACH_KEYS)
    except ValueError:
        return term.detach_key_bytes(term.DEFAULT_DETACH_KEYS)


def wait_status(resp) -> int:
    data = resp.read()
    try:
        doc = json.loads(data)
    except ValueError:
        return 125
    err = doc.get("Error")
    if err and err.get("Message"):
        sys.stderr.write(f"error waiting for container: {err['Message']}\n")
        return 125
    return int(doc.get("StatusCode", 125))


def start_attached(api, cid: str, *, tty: bool, stdin: bool, stdout: bool, stderr: bool, keys: str = "",
                   auto_remove: bool = False, sig_proxy: bool = True) -> int:
    """Returns the container's exit status; raises Detached, or APIError when start fails."""
    hijacked = None
    if stdin or stdout or stderr:
        q = {"stream": 1}
        if stdin:
            q["stdin"] = 1
        if stdout:
            q["stdout"] = 1
        if stderr:
            q["stderr"] = 1
        if keys:
            q["detachKeys"] = keys
        hijacked = api.hijack(f"/containers/{cid}/attach", q)
    wait_resp = api.request("POST", f"/containers/{cid}/wait",
                            {"condition": "removed" if auto_remove else "next-exit"}, conn=api.new_conn())
    stdin_tty, stdout_tty = term.is_tty(0), term.is_tty(1)
    stdin_fd = 0 if stdin else None
    session = Session(api, raw_fd=0 if (tty and stdin and stdin_tty) else None,
                      resize_path=f"/containers/{cid}/resize" if (tty and stdout_tty) else None,
                      proxy_path=f"/containers/{cid}/kill" if (not tty and sig_proxy) else None)
    with session:
        try:
            api.request("POST", f"/containers/{cid}/start").read()
        except APIError:
            if hijacked is not None:
                hijacked[0].close()
            if auto_remove:
                wait_resp.read()
            else:
                wait_resp.close()
            raise
        session.initial_resize()
        if hijacked is not None:
            sock, leftover, _ = hijacked
            if streams.pump(sock, leftover, tty=tty, stdin_fd=stdin_fd, detach_keys=detach_keys(keys)):
                wait_resp.close()
                raise Detached()
        return wait_status(wait_resp)
