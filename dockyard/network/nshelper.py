"""The netns socket helper: a separate, single-threaded process that makes sockets inside other
network namespaces for the daemon (which must not setns() itself).

Run as ``python -I -S nshelper.py FD`` where FD is a SOCK_SEQPACKET unix socket. Each request is
``"<family> <type> <proto>"`` with one file descriptor attached: an open network namespace file.
The helper enters that namespace, creates the socket, goes back to its own namespace and answers
``"ok"`` with the new socket attached, or ``"error <text>"``. A socket keeps the namespace it was
created in, so the daemon then uses it (netlink, DNS listeners) without ever entering the namespace.
Standard library only: it starts in a few milliseconds and lives as long as the daemon.
"""
import ctypes
import os
import socket
import sys

CLONE_NEWNET = 0x40000000


def main(argv) -> int:
    chan = socket.socket(fileno=int(argv[1]))
    libc = ctypes.CDLL(None, use_errno=True)
    libc.setns.argtypes = [ctypes.c_int, ctypes.c_int]
    home = os.open("/proc/self/ns/net", os.O_RDONLY | os.O_CLOEXEC)

    def enter(fd: int) -> None:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err))

    while True:
        try:
            msg, fds, _, _ = socket.recv_fds(chan, 256, 1)
        except (ConnectionResetError, OSError):
            return 0
        if not msg:
            return 0
        reply, send = b"ok", []
        sock = None
        try:
            if len(fds) != 1:
                raise ValueError("expected one namespace file descriptor")
            family, stype, proto = (int(x) for x in msg.split())
            enter(fds[0])
            try:
                sock = socket.socket(family, stype, proto)
            finally:
                enter(home)
            send = [sock.fileno()]
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
