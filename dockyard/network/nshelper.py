"""The netns socket helper: a separate, single-threaded process that makes sockets inside other
network namespaces for the daemon (which must not setns() itself).

Run as ``python -I -S nshelper.py FD`` where FD is a SOCK_SEQPACKET unix socket. Each request
comes with one file descriptor attached, an open network namespace file, and is one of

* ``"sock <family> <type> <proto>"``: the helper enters the namespace, creates the socket, goes
  back to its own namespace and answers ``"ok"`` with the socket attached. A socket keeps the
  namespace it was created in, so the daemon then uses it (netlink, DNS listeners) without ever
  entering the namespace;
* ``"nft <script>"``: runs an nftables script in the namespace (libnftables, or the ``nft``
  command), answering ``"ok"``.

Failures answer ``"error <text>"``. Standard library only: it starts in a few milliseconds and
lives as long as the daemon.
"""
import ctypes
import os
import socket
import subprocess
import sys

CLONE_NEWNET = 0x40000000
MAX_REQUEST = 1 << 20


class Nft:
    """libnftables through ctypes; the ``nft`` command when the library cannot be loaded."""

    def __init__(self):
        try:
            lib = ctypes.CDLL("libnftables.so.1")
        except OSError:
            self.lib = None
            return
        lib.nft_ctx_new.restype = ctypes.c_void_p
        lib.nft_ctx_new.argtypes = [ctypes.c_uint32]
        for name in ("nft_ctx_free", "nft_ctx_buffer_output", "nft_ctx_buffer_error"):
            getattr(lib, name).argtypes = [ctypes.c_void_p]
        lib.nft_ctx_get_error_buffer.restype = ctypes.c_char_p
        lib.nft_ctx_get_error_buffer.argtypes = [ctypes.c_void_p]
        lib.nft_run_cmd_from_buffer.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        self.lib = lib

    def run(self, script: bytes) -> None:
        if self.lib is None:
            p = subprocess.run(["nft", "-f", "-"], input=script, capture_output=True, timeout=30)
            if p.returncode:
                raise RuntimeError(p.stderr.decode("utf-8", "replace").strip().splitlines()[0])
            return
        ctx = self.lib.nft_ctx_new(0)
        try:
            self.lib.nft_ctx_buffer_output(ctx)
            self.lib.nft_ctx_buffer_error(ctx)
            if self.lib.nft_run_cmd_from_buffer(ctx, script) != 0:
                err = (self.lib.nft_ctx_get_error_buffer(ctx) or b"nft failed").decode("utf-8", "replace")
                raise RuntimeError(err.strip().splitlines()[0])
        finally:
            self.lib.nft_ctx_free(ctx)


def main(argv) -> int:
    chan = socket.socket(fileno=int(argv[1]))
    libc = ctypes.CDLL(None, use_errno=True)
    libc.setns.argtypes = [ctypes.c_int, ctypes.c_int]
    home = os.open("/proc/self/ns/net", os.O_RDONLY | os.O_CLOEXEC)

    def enter(fd: int) -> None:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err))

    nft = None
    while True:
        try:
            msg, fds, _, _ = socket.recv_fds(chan, MAX_REQUEST, 1)
        except (ConnectionResetError, OSError):
            return 0
        if not msg:
            return 0
        reply, send = b"ok", []
        sock = None
        try:
            if len(fds) != 1:
                raise ValueError("expected one namespace file descriptor")
            kind, _, rest = msg.partition(b" ")
            if kind == b"sock":
                family, stype, proto = (int(x) for x in rest.split())
                enter(fds[0])
                try:
                    sock = socket.socket(family, stype, proto)
                finally:
                    enter(home)
                send = [sock.fileno()]
            elif kind == b"nft":
                nft = nft or Nft()
                enter(fds[0])
                try:
                    nft.run(rest)
                finally:
                    enter(home)
            else:
                raise ValueError(f"unknown request {kind!r}")
        except Exception as e:  # the answer carries the error; the helper keeps serving
            reply = b"error " + str(e).encode("utf-8", "replace")[:200]
        finally:
            for fd in fds:
                os.close(fd)
        socket.send_fds(chan, [reply], send)
        if sock is not None:
            sock.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
