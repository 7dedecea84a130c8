"""The last steps before the container's program runs: limits, identity, exec.

runc's order is the security order: rlimits and oom score while privileged,
seccomp early only when no_new_privileges is off (loading needs CAP_SYS_ADMIN
then), capabilities and uid, cwd, then no_new_privs + seccomp right before exec.
"""
from __future__ import annotations

import errno
import os
import resource
import _signal as signal

from ..kernel import consts as C
from ..spec.runtime import Process
from . import capabilities, seccomp
from .errors import RuntimeFailure

RLIMITS = {
    "RLIMIT_CPU": resource.RLIMIT_CPU, "RLIMIT_FSIZE": resource.RLIMIT_FSIZE,
    "RLIMIT_DATA": resource.RLIMIT_DATA, "RLIMIT_STACK": resource.RLIMIT_STACK,
    "RLIMIT_CORE": resource.RLIMIT_CORE, "RLIMIT_RSS": resource.RLIMIT_RSS,
    "RLIMIT_NPROC": resource.RLIMIT_NPROC, "RLIMIT_NOFILE": resource.RLIMIT_NOFILE,
    "RLIMIT_MEMLOCK": resource.RLIMIT_MEMLOCK, "RLIMIT_AS": resource.RLIMIT_AS,
    "RLIMIT_LOCKS": 10, "RLIMIT_SIGPENDING": resource.RLIMIT_SIGPENDING,
    "RLIMIT_MSGQUEUE": resource.RLIMIT_MSGQUEUE, "RLIMIT_NICE": resource.RLIMIT_NICE,
    "RLIMIT_RTPRIO": resource.RLIMIT_RTPRIO, "RLIMIT_RTTIME": resource.RLIMIT_RTTIME,
}
_UNLIMITED = 2 ** 64 - 1


def check_rlimits(proc: Process) -> None:
    for r in proc.rlimits:
        if r.type not in RLIMITS:
            raise RuntimeFailure(f"unknown rlimit type {r.type!r}")
        if r.soft > r.hard:
            raise RuntimeFailure(f"rlimit {r.type}: soft limit {r.soft} is above the hard limit {r.hard}")


def set_rlimits(proc: Process) -> None:
    for r in proc.rlimits:
        lim = tuple(resource.RLIM_INFINITY if v >= _UNLIMITED else v for v in (r.soft, r.hard))
        try:
            resource.setrlimit(RLIMITS[r.type], lim)
        except (OSError, ValueError) as e:
            msg = getattr(e, "strerror", None) or str(e)
            raise RuntimeFailure(f"error setting rlimit {r.type} to {r.soft}:{r.hard}: {msg}") from None


def set_oom_score_adj(value: int | None, pid: str = "self") -> None:
    if value is None:
        return
    try:
        with open(f"/proc/{pid}/oom_score_adj", "w") as f:
            f.write(str(value))
    except OSError as e:
        raise RuntimeFailure(f"setting oom_score_adj to {value}: {e.strerror}") from None


def env_with_home(env: list[str], uid: int, passwd: str = "/etc/passwd") -> list[str]:
    """runc sets HOME from the container's /etc/passwd when the process env lacks it."""
    if any(e.startswith("HOME=") for e in env):
        return env
    home = "/"
    try:
        with open(passwd) as f:
            for line in f:
                parts = line.rstrip("\n").split(":")
                if len(parts) >= 6 and parts[2] == str(uid):
                    home = parts[5] or "/"
                    break
    except OSError:
        pass
    return env + [f"HOME={home}"]


def lookpath(name: str, env: list[str]) -> str:
    if not name:
        raise RuntimeFailure("process.args must not be empty")
    if "/" in name:
        if not os.path.exists(name):
            raise RuntimeFailure(f'exec: "{name}": stat {name}: no such file or directory')
        # like runc (Go's exec.LookPath): a directory or a file without any x bit fails here, at
        # create time, so engines report "permission denied" instead of a started-then-failed process
        st = os.stat(name)
        if not (os.path.isfile(name) and st.st_mode & 0o111):
            raise RuntimeFailure(f'exec: "{name}": permission denied')
        return name
    path = next((e[5:] for e in env if e.startswith("PATH=")), "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
    for d in path.split(":"):
        cand = os.path.join(d or ".", name)
        if os.path.isfile(cand) and os.access(cand, os.X_OK):
            return cand
    raise RuntimeFailure(f'exec: "{name}": executable file not found in $PATH')


def reset_signals() -> None:
    """Python ignores SIGPIPE and SIGXFSZ and handles SIGINT; the container must not inherit that."""
    for s in (signal.SIGPIPE, signal.SIGXFSZ, signal.SIGINT, signal.SIGTERM, signal.SIGCHLD,
              signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2):
        signal.signal(s, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, [])


def close_fds_from(sys, first: int) -> None:
    sys.close_range(first)


def exec_process(sys, path: str, proc: Process, env: list[str], *, seccomp_filter=None, preserve_fds: int = 0) -> None:
    """no_new_privs, late seccomp, close fds, execve. Never returns."""
    if proc.no_new_privileges:
        sys.prctl(C.PR_SET_NO_NEW_PRIVS, 1)
    reset_signals()
    close_fds_from(sys, 3 + preserve_fds)
    if seccomp_filter is not None:
        seccomp.load(seccomp_filter)
    try:
        os.execve(path, proc.args, dict(e.split("=", 1) if "=" in e else (e, "") for e in env))
    except OSError as e:
        reason = errno.errorcode.get(e.errno, str(e.errno))
        os.write(2, f"dockyard-runtime: exec {path}: {e.strerror} ({reason})\n".encode())
        os._exit(127 if e.errno == errno.ENOENT else 126)


def enter_cwd(cwd: str, where: str = "") -> None:
    """chdir to the process's cwd and check that it is inside the container's root: a path
    through a leaked directory fd (``/proc/self/fd/N``) could otherwise start the process in a
    host directory (CVE-2024-21626's class). The kernel's getcwd prefixes ``(unreachable)``
    to a directory outside the process's root."""
    try:
        os.chdir(cwd)
    except OSError as e:
        raise RuntimeFailure(f"chdir to cwd ({cwd!r}){where} failed: {e.strerror}") from None
    try:
        here = os.getcwd()
    except OSError as e:
        raise RuntimeFailure(f"cwd ({cwd!r}){where}: cannot resolve the working directory: {e.strerror}") from None
    if not here.startswith("/"):
        raise RuntimeFailure(f"cwd ({cwd!r}){where} is outside the container's root filesystem "
                             "(possible container breakout: refused)")


def become_user(sys, proc: Process) -> None:
    """umask, then capabilities and ids in the security-critical order (capabilities.drop_to)."""
    u = proc.user
    os.umask(u.umask if u.umask is not None else 0o022)
    capabilities.drop_to(sys, proc.capabilities, u.uid, u.gid, u.additional_gids)
