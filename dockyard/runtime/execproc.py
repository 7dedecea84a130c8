"""The process that `exec` starts inside a running container's namespaces."""
from __future__ import annotations

import os

from ..kernel import consts as C
from ..spec.runtime import Process
from . import process
from . import seccomp as sc
from .errors import RuntimeFailure
from .sync import Channel


def exec_main(sys, proc: Process, chan: Channel, *, seccomp_filter=None, console_sock=None, preserve_fds: int = 0,
              in_userns: bool = False) -> None:
    """Never returns. The seccomp filter is compiled by the parent: libseccomp cannot be loaded
    from inside the container's mount namespace."""
    try:
        filt = seccomp_filter
        if proc.terminal:
            from . import console  # pre-imported by Runtime.exec: the host's files are out of reach here
            master, slave = console.open_pty()
            if proc.console_size:
                console.set_size(master, *proc.console_size)
            console.send_master(console_sock, master, slave)
            os.close(master)
            console_sock.close()
            console.become_session_leader_on(slave)
        if not in_userns:  # in a user namespace the parent writes it (a non-dumpable process's /proc
            process.set_oom_score_adj(proc.oom_score_adj)  # files belong to the host's root)
        process.set_rlimits(proc)
        sys.prctl(C.PR_SET_DUMPABLE, 0)  # not dumpable until exec
        if filt is not None and not proc.no_new_privileges:
            sc.load(filt)
            filt = None
        process.become_user(sys, proc)
        env = process.env_with_home(proc.env, proc.user.uid)
        process.enter_cwd(proc.cwd)
        path = process.lookpath(proc.args[0] if proc.args else "", env)
        chan.send("ready")
        chan.close()
        process.exec_process(sys, path, proc, env, seccomp_filter=filt, preserve_fds=preserve_fds)
    except BaseException as e:
        msg = str(e) if isinstance(e, RuntimeFailure) else f"{type(e).__name__}: {e}"
        try:
            chan.send("error", msg=msg)
        except OSError:
            pass
        os._exit(1)
