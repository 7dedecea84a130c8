"""The kernel behind a small injectable interface (see syscalls.Syscalls)."""


def real():
    """The real kernel (imported lazily: ctypes setup costs a little)."""
    from .linux import LinuxSyscalls
    return LinuxSyscalls()
