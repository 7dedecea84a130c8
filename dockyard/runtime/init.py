"""The container's init: runs as pid 1 in the new namespaces, sets the container up,
waits on the exec fifo until `start`, then becomes the user's process."""
from __future__ import annotations

import os
from ..util.record import record as dataclass

from ..kernel import consts as C
from ..spec.runtime import Spec
from . import hooks, process, rootfs, seccomp
from .errors import RuntimeFailure
from .sync import Channel


@dataclass
class InitConfig:
    spec: Spec
    bundle: str
    rootfs: str
    fifo_fd: int | None  # O_PATH fd of the exec fifo, opened by the parent (the init may not see the state dir)
    userns: bool
    cgroup_mounts: list
    console_sock: object = None  # connected socket for the pty master
    preserve_fds: int = 0
    no_pivot: bool = False
    state_for_hooks: dict | None = None
    seccomp_prepared: object = None  # seccomp_cache.Prepared


def apply_sysctl(sysctl: dict[str, str]) -> None:
    for key, value in sysctl.items():
        path = "/proc/sys/" + key.replace(".", "/")
        try:
            with open(path, "w") as f:
                f.write(value)
        except OSError as e:
            raise RuntimeFailure(f"setting sysctl {key}={value}: {e.strerror}") from None


def setup_console(sys, cfg: InitConfig) -> None:
    from . import console  # imported by init_main before pivot_root
    master, slave = console.open_pty()
    proc = cfg.spec.process
    if proc.console_size:
        console.set_size(master, *proc.console_size)
    # /dev/console is the container's terminal
    if os.path.exists("/dev"):
        if not os.path.lexists("/dev/console"):
            open("/dev/console", "a").close()
        try:
            sys.mount(slave, "/dev/console", None, C.MS_BIND)
        except OSError:
            pass
    console.send_master(cfg.console_sock, master, slave)
    os.close(master)
    cfg.console_sock.close()
    console.become_session_leader_on(slave)


def init_main(sys, cfg: InitConfig, chan: Channel) -> None:
    """Never returns: execs the process or exits."""
    ready = False
    try:
        spec, proc = cfg.spec, cfg.spec.process
        filt = cfg.seccomp_prepared  # compiled by the parent (and cached on disk)
        if filt is None and spec.linux.seccomp is not None:
            filt = seccomp.compile(spec.linux.seccomp)
        if spec.hooks_of("startContainer"):
            import subprocess  # noqa: F401  (after pivot_root nothing can be imported from the host)
        fifo_fd = cfg.fifo_fd
        if proc.terminal:
            from . import console  # noqa: F401  (nothing can be imported after pivot_root)
        rootfs.prepare(sys, spec, cfg.rootfs, cfg.bundle, userns=cfg.userns, cgroup_mounts=cfg.cgroup_mounts)
        chan.send("hooks")
        chan.expect("hooks-done")
        if spec.hooks_of("createContainer"):
            hooks.run_hooks("createContainer", spec.hooks_of("createContainer"), cfg.state_for_hooks or {})
        if cfg.no_pivot:
            rootfs.chroot_into(cfg.rootfs)
        else:
            rootfs.pivot(sys, cfg.rootfs)
        if proc.terminal:
            setup_console(sys, cfg)
        # sysctls before masked and read-only paths (runc's order): /proc/sys is usually read-only
        apply_sysctl(spec.linux.sysctl)
        rootfs.finish(sys, spec)
        if spec.hostname:
            sys.sethostname(spec.hostname)
        if spec.domainname:
            sys.setdomainname(spec.domainname)
        if not cfg.userns:  # in a user namespace the parent writes it (our /proc files are not ours)
            process.set_oom_score_adj(proc.oom_score_adj)
        process.set_rlimits(proc)
        sys.prctl(C.PR_SET_DUMPABLE, 0)
        if filt is not None and not proc.no_new_privileges:
            seccomp.load(filt)
            filt = None
        process.become_user(sys, proc)
        env = process.env_with_home(proc.env, proc.user.uid)
        process.enter_cwd(proc.cwd, " set in config.json")
        path = process.lookpath(proc.args[0] if proc.args else "", env)
        chan.send("ready")
        ready = True
        chan.close()
        if fifo_fd is not None:
            fd = os.open(f"/proc/self/fd/{fifo_fd}", os.O_WRONLY | os.O_CLOEXEC)
            os.write(fd, b"0")
            os.close(fd)
            os.close(fifo_fd)
        if spec.hooks_of("startContainer"):
            hooks.run_hooks("startContainer", spec.hooks_of("startContainer"), cfg.state_for_hooks or {})
        process.exec_process(sys, path, proc, env, seccomp_filter=filt, preserve_fds=cfg.preserve_fds)
    except BaseException as e:
        msg = str(e) if isinstance(e, RuntimeFailure) else f"{type(e).__name__}: {e}"
        if os.environ.get("DOCKYARD_DEBUG"):
            import traceback
            msg += "\n" + traceback.format_exc()
        if not ready:
            try:
                chan.send("error", msg=msg)
            except OSError:
                pass
        else:
            os.write(2, f"dockyard-runtime init: {msg}\n".encode())
        os._exit(1)


