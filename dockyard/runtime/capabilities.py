"""Linux capabilities of the container process: names, masks, and the drop sequence.

The init must change capabilities and ids in this order (``drop_to`` does exactly it):

1. ``prctl(PR_SET_KEEPCAPS, 1)``  keep the permitted set across the uid change;
2. ``apply_bounding``             drop bounding-set caps (needs CAP_SETPCAP, still held);
3. ``setgroups / setresgid / setresuid``  (need CAP_SETGID / CAP_SETUID, still held);
4. ``apply``                      capset effective/permitted/inheritable, clear and
                                  raise the ambient set;
5. ``prctl(PR_SET_KEEPCAPS, 0)``.

Capabilities this process cannot hold (this host's runtime lacks CAP_SYS_RESOURCE in its
bounding set, for instance) are left out of every set instead of failing, so a request
for every capability grants all that the host can give. Names the running kernel does
not know (number above /proc/sys/kernel/cap_last_cap) are ignored, as runc does.
"""
from __future__ import annotations

import os
from ..kernel import consts as C

CAP_NAMES: dict[str, int] = {
    "CAP_CHOWN": 0,
    "CAP_DAC_OVERRIDE": 1,
    "CAP_DAC_READ_SEARCH": 2,
    "CAP_FOWNER": 3,
    "CAP_FSETID": 4,
    "CAP_KILL": 5,
    "CAP_SETGID": 6,
    "CAP_SETUID": 7,
    "CAP_SETPCAP": 8,
    "CAP_LINUX_IMMUTABLE": 9,
    "CAP_NET_BIND_SERVICE": 10,
    "CAP_NET_BROADCAST": 11,
    "CAP_NET_ADMIN": 12,
    "CAP_NET_RAW": 13,
    "CAP_IPC_LOCK": 14,
    "CAP_IPC_OWNER": 15,
    "CAP_SYS_MODULE": 16,
    "CAP_SYS_RAWIO": 17,
    "CAP_SYS_CHROOT": 18,
    "CAP_SYS_PTRACE": 19,
    "CAP_SYS_PACCT": 20,
    "CAP_SYS_ADMIN": 21,
    "CAP_SYS_BOOT": 22,
    "CAP_SYS_NICE": 23,
    "CAP_SYS_RESOURCE": 24,
    "CAP_SYS_TIME": 25,
    "CAP_SYS_TTY_CONFIG": 26,
    "CAP_MKNOD": 27,
    "CAP_LEASE": 28,
    "CAP_AUDIT_WRITE": 29,
    "CAP_AUDIT_CONTROL": 30,
    "CAP_SETFCAP": 31,
    "CAP_MAC_OVERRIDE": 32,
    "CAP_MAC_ADMIN": 33,
    "CAP_SYSLOG": 34,
    "CAP_WAKE_ALARM": 35,
    "CAP_BLOCK_SUSPEND": 36,
    "CAP_AUDIT_READ": 37,
    "CAP_PERFMON": 38,
    "CAP_BPF": 39,
    "CAP_CHECKPOINT_RESTORE": 40,
}

_MAX_CAP = max(CAP_NAMES.values())
_ERRNO_EINVAL = 22


class CapabilityError(ValueError):
    """A capability list names something that is not a capability."""


_last_cap: list[int] = []


def last_cap() -> int:
    """The highest capability number the running kernel knows (cached: call it once
    before pivot_root, /proc may be masked later)."""
    if not _last_cap:
        try:
            with open("/proc/sys/kernel/cap_last_cap", "rb") as f:
                _last_cap.append(int(f.read()))
        except (OSError, ValueError):
            _last_cap.append(_MAX_CAP)
    return _last_cap[0]


def mask(names, last: int | None = None) -> int:
    """The bit mask of capability ``names``; names above ``last`` (default: the
    kernel's last_cap) are ignored, unknown names raise CapabilityError."""
    top = last_cap() if last is None else last
    m = 0
    for name in names:
        nr = CAP_NAMES.get(name)
        if nr is None:
            raise CapabilityError(f'unknown capability "{name}"')
        if nr <= top:
            m |= 1 << nr
    return m


def names(m: int) -> list[str]:
    """The capability names set in mask ``m``, in number order."""
    return [n for n, nr in CAP_NAMES.items() if (m >> nr) & 1]


def _bits(m: int):
    nr = 0
    while m:
        if m & 1:
            yield nr
        m >>= 1
        nr += 1


def bounding(sys, last: int | None = None) -> int:
    """The calling process's bounding set, read with PR_CAPBSET_READ."""
    top = last_cap() if last is None else last
    m = 0
    for nr in range(top + 1):
        try:
            if sys.prctl(C.PR_CAPBSET_READ, nr):
                m |= 1 << nr
        except OSError as e:  # a cap this kernel does not know
            if e.errno != _ERRNO_EINVAL:
                raise
    return m


def apply_bounding(sys, caps, last: int | None = None) -> None:
    """Drop from the bounding set every capability not in ``caps.bounding``
    (only those the process still has there)."""
    top = last_cap() if last is None else last
    drop = bounding(sys, top) & ~mask(caps.bounding, top)
    for nr in _bits(drop):
        sys.prctl(C.PR_CAPBSET_DROP, nr)


def apply(sys, caps, last: int | None = None) -> None:
    """Set effective/permitted/inheritable with capset, then clear the ambient set and
    raise each ambient capability. Capabilities the process cannot have are left out."""
    top = last_cap() if last is None else last
    old_eff, old_perm, old_inh = sys.capget()
    bset = bounding(sys, top)
    perm = mask(caps.permitted, top) & old_perm
    # The kernel's capset rules: inheritable within old inheritable | bounding, and
    # also within old inheritable | old permitted unless CAP_SETPCAP is effective.
    inh_ok = old_inh | bset
    if not (old_eff >> CAP_NAMES["CAP_SETPCAP"]) & 1:
        inh_ok &= old_inh | old_perm
    inh = mask(caps.inheritable, top) & inh_ok
    eff = mask(caps.effective, top) & perm
    sys.capset(eff, perm, inh)
    sys.prctl(C.PR_CAP_AMBIENT, C.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    for nr in _bits(mask(caps.ambient, top) & perm & inh):
        sys.prctl(C.PR_CAP_AMBIENT, C.PR_CAP_AMBIENT_RAISE, nr, 0, 0)


def _set_ids(os_module, uid: int, gid: int, additional_gids) -> None:
    if additional_gids is not None:
        os_module.setgroups(list(additional_gids))
    os_module.setresgid(gid, gid, gid)
    os_module.setresuid(uid, uid, uid)


def drop_to(sys, caps, uid: int, gid: int, additional_gids, os_module=os, *, last: int | None = None) -> None:
    """Become ``uid``/``gid`` with ``caps`` (an OCI Capabilities, or None to leave the
    capability sets to the kernel's uid-change rules), in the order documented above.

    ``additional_gids`` None leaves the supplementary groups alone (a user namespace
    with setgroups denied); a list (even empty) replaces them.
    """
    if caps is None:
        _set_ids(os_module, uid, gid, additional_gids)
        return
    top = last_cap() if last is None else last
    mask(caps.bounding + caps.effective + caps.permitted + caps.inheritable + caps.ambient, top)  # validate first
    sys.prctl(C.PR_SET_KEEPCAPS, 1)
    apply_bounding(sys, caps, top)
    _set_ids(os_module, uid, gid, additional_gids)
    apply(sys, caps, top)
    sys.prctl(C.PR_SET_KEEPCAPS, 0)
