"""Terminals: a pty made inside the container, its master handed over --console-socket."""
from __future__ import annotations

import array
import fcntl
import os
import socket
import struct
import termios

from ..kernel import consts as C


def connect_console_socket(path: str) -> socket.socket:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    return s


def open_pty() -> tuple[int, str]:
    """Open /dev/ptmx (the container's devpts instance); returns (master fd, slave path)."""
    master = os.open("/dev/ptmx", os.O_RDWR | os.O_NOCTTY | os.O_CLOEXEC)
    n = array.array("i", [0])
    fcntl.ioctl(master, C.TIOCSPTLCK, array.array("i", [0]))  # unlock
    fcntl.ioctl(master, C.TIOCGPTN, n)
    return master, f"/dev/pts/{n[0]}"


def send_master(sock: socket.socket, master: int, name: str) -> None:
    socket.send_fds(sock, [name.encode()], [master])


def recv_master(sock: socket.socket) -> tuple[int, str]:
    msg, fds, _flags, _addr = socket.recv_fds(sock, 4096, 1)
    if not fds:
        raise OSError("no file descriptor received on the console socket")
    return fds[0], msg.decode(errors="replace")


def set_size(fd: int, rows: int, cols: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def become_session_leader_on(slave_path: str) -> int:
    """setsid, open the slave as controlling terminal, make it fds 0-2."""
    os.setsid()
    fd = os.open(slave_path, os.O_RDWR)
    fcntl.ioctl(fd, termios.TIOCSCTTY, 0)
    for i in range(3):
        os.dup2(fd, i)
    if fd > 2:
        os.close(fd)
    return 0
