"""The cgroups package's error type (kept apart so the hot path never imports typing)."""
from __future__ import annotations


class CgroupError(RuntimeError):
    """A cgroup operation failed; the message names the controller and file.

    ``errno`` is the kernel's error number when the failure came from a
    system call, else None.
    """

    def __init__(self, message: str, errno: int | None = None):
        super().__init__(message)
        self.errno = errno
