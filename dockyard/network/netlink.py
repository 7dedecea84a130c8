"""pyroute2 access: the host's rtnetlink, or a namespace's through a socket from ``NetnsBroker``.

pyroute2 is imported here, lazily, so importing the networking package stays cheap. A sync
``IPRoute`` runs its own event loop: use these from a worker thread, not from the daemon's loop.
"""
from __future__ import annotations

import asyncio
import contextlib

from .errors import NetworkError

ENOENT, ESRCH, EEXIST, ENODEV, EADDRNOTAVAIL = 2, 3, 17, 19, 99


def _iproute():
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:   # pyroute2's sync API would try to run the caller's (running) loop
        raise RuntimeError("the networking service blocks: call it from a worker thread, not an event loop")
    from pyroute2 import IPRoute  # heavy: ~0.1 s to import
    return IPRoute


@contextlib.contextmanager
def host():
    ipr = _iproute()()
    try:
        yield ipr
    finally:
        ipr.close()


@contextlib.contextmanager
def in_netns(broker, netns_path: str):
    sock = broker.netlink(netns_path)
    ipr = _iproute()(fileno=sock.detach())
    try:
        yield ipr
    finally:
        ipr.close()


def errno_of(exc: BaseException) -> int | None:
    from pyroute2.netlink.exceptions import NetlinkError
    return exc.code if isinstance(exc, NetlinkError) else None


def index(ipr, ifname: str) -> int | None:
    """The interface's index, None if there is none (one RTM_GETLINK; link_lookup dumps them all)."""
    try:
        return ipr.link("get", ifname=ifname)[0]["index"]
    except Exception as e:
        if errno_of(e) in (ENODEV, ENOENT):
            return None
        raise


def link_names(ipr) -> dict[str, int]:
    return {link.get("ifname"): link["index"] for link in ipr.link("dump")}


def delete_link(ipr, ifname: str) -> bool:
    """Delete a link by name; False when there was none."""
    idx = index(ipr, ifname)
    if idx is None:
        return False
    try:
        ipr.link("del", index=idx)
    except Exception as e:
        if errno_of(e) == ENODEV:
            return False
        raise NetworkError(f"cannot delete interface {ifname}: {e}") from None
    return True


def routes_v4(ipr) -> list[tuple[str, int, int | None]]:
    """(destination, prefix length, output interface index) of the main table's IPv4 routes."""
    out = []
    for r in ipr.route("dump", family=2, table=254):
        dst = r.get("dst") or "0.0.0.0"
        out.append((dst, r["dst_len"], r.get("oif")))
    return out
