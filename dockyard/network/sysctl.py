"""The few sysctls bridge networking needs, written through /proc/sys (the daemon's namespace)."""
from __future__ import annotations

import os

from .errors import NetworkError
from .names import check_ifname

PROC_SYS = "/proc/sys"


def _path(key: str) -> str:
    return os.path.join(PROC_SYS, *key.split("."))


def read(key: str) -> str:
    with open(_path(key)) as f:
        return f.read().strip()


def write(key: str, value: str) -> None:
    try:
        with open(_path(key), "w") as f:
            f.write(value)
    except OSError as e:
        raise NetworkError(f"cannot set {key}={value}: {e.strerror}") from None


def set_route_localnet(ifname: str) -> None:
    """Let packets to 127.0.0.0/8 that were DNATed to a container leave through the bridge."""
    write(f"net.ipv4.conf.{check_ifname(ifname)}.route_localnet", "1")


def ensure_ip_forward() -> bool:
    """Turn on IPv4 forwarding (as dockerd does); True when it had to be changed."""
    if read("net.ipv4.ip_forward") == "1":
        return False
    write("net.ipv4.ip_forward", "1")
    return True
