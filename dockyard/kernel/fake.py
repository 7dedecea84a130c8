"""A recording fake of the kernel interface, for unit tests without root."""
from __future__ import annotations

import errno


class RecordingSyscalls:
    """Records every call as (name, args...) in ``calls``.

    ``fail`` maps a call name to an errno to raise the next time it is made,
    to test error paths. ``caps`` holds the (effective, permitted, inheritable)
    sets that capget returns and capset changes.
    """

    def __init__(self):
        self.calls: list[tuple] = []
        self.fail: dict[str, int] = {}
        self.caps = ((1 << 41) - 1, (1 << 41) - 1, 0)
        self.bounding = (1 << 41) - 1
        self.ambient = 0
        self.no_new_privs = 0

    def _rec(self, name, *args):
        self.calls.append((name, *args))
        if name in self.fail:
            e = self.fail.pop(name)
            raise OSError(e, f"{name}: {errno.errorcode.get(e, e)}")

    def names(self) -> list[str]:
        return [c[0] for c in self.calls]

    def of(self, name: str) -> list[tuple]:
        return [c[1:] for c in self.calls if c[0] == name]

    def mount(self, source, target, fstype, flags=0, data=None):
        self._rec("mount", source, target, fstype, flags, data)

    def umount2(self, target, flags=0):
        self._rec("umount2", target, flags)

    def pivot_root(self, new_root, put_old):
        self._rec("pivot_root", new_root, put_old)

    def unshare(self, flags):
        self._rec("unshare", flags)

    def setns(self, fd, nstype=0):
        self._rec("setns", fd, nstype)

    def sethostname(self, name):
        self._rec("sethostname", name)

    def setdomainname(self, name):
        self._rec("setdomainname", name)

    def prctl(self, option, arg2=0, arg3=0, arg4=0, arg5=0):
        from . import consts as C
        self._rec("prctl", option, arg2, arg3, arg4, arg5)
        if option == C.PR_CAPBSET_DROP:
            self.bounding &= ~(1 << arg2)
        elif option == C.PR_CAPBSET_READ:
            return (self.bounding >> arg2) & 1
        elif option == C.PR_CAP_AMBIENT and arg2 == C.PR_CAP_AMBIENT_RAISE:
            self.ambient |= 1 << arg3
        elif option == C.PR_CAP_AMBIENT and arg2 == C.PR_CAP_AMBIENT_CLEAR_ALL:
            self.ambient = 0
        elif option == C.PR_SET_NO_NEW_PRIVS:
            self.no_new_privs = arg2
        return 0

    def capget(self):
        self._rec("capget")
        return self.caps

    def capset(self, effective, permitted, inheritable):
        self._rec("capset", effective, permitted, inheritable)
        self.caps = (effective, permitted, inheritable)

    def ioctl_int(self, fd, request, arg=0):
        self._rec("ioctl_int", fd, request, arg)
        return 0

    def close_range(self, first, last=0xFFFFFFFF, flags=0):
        self._rec("close_range", first, last, flags)
