"""The parent/child handshake: newline-delimited JSON messages over a socketpair.

Messages (type field):
  go        parent -> intermediate: cgroups are joined, carry on
  userns    intermediate -> parent: a new user namespace exists, write its id maps
  mapped    parent -> intermediate: id maps written
  pid       intermediate -> parent: the container process's pid (host view)
  hooks     init -> parent: namespaces and mounts are ready, run prestart/createRuntime hooks
  hooks-done parent -> init
  ready     init -> parent: everything is set up, init now waits for `start`
  error     child -> parent: setup failed (message in "msg")
"""
from __future__ import annotations

from ..util import fastjson as json
import _socket


class Channel:
    def __init__(self, sock):
        self.sock = sock
        self._buf = b""

    @classmethod
    def pair(cls) -> tuple["Channel", "Channel"]:
        a, b = _socket.socketpair(_socket.AF_UNIX, _socket.SOCK_STREAM)
        return cls(a), cls(b)

    def send(self, type: str, **fields) -> None:
        fields["type"] = type
        self.sock.sendall(json.dumps(fields).encode() + b"\n")

    def recv(self) -> dict:
        while b"\n" not in self._buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("the other side closed the channel")
            self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        return json.loads(line)

    def expect(self, type: str) -> dict:
        msg = self.recv()
        if msg.get("type") == "error":
            raise ChildError(msg.get("msg", "unknown error"))
        if msg.get("type") != type:
            raise ChildError(f"unexpected message {msg.get('type')!r} (wanted {type!r})")
        return msg

    def fileno(self) -> int:
        return self.sock.fileno()

    def close(self) -> None:
        self.sock.close()


class ChildError(Exception):
    """The container side reported a failure during setup."""
