"""Container lifecycle on the runtime side: create, start, kill, delete, exec, pause, update.

The commands in runtime/commands/ are thin glue over these functions.
"""
from __future__ import annotations

import os
import select
import _signal as signal
import time

from .. import cgroups
from ..spec.runtime import Process, Spec, load_spec, parse_resources
from . import hooks, process
from . import state as st
from .devices import cgroup_device_rules
from .errors import ContainerNotFound, RuntimeFailure
from .spawn import NamespacePlan, spawn
from .sync import ChildError

_SYSCTL_IPC = ("kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall",
               "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced")


def now_rfc3339() -> str:
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t % 1 * 1e9):09d}Z"


def validate_spec(spec: Spec, *, console_socket: bool, detached: bool = True) -> None:
    if spec.process is None:
        raise RuntimeFailure("config.json: process is required to create a container")
    if not spec.process.args:
        raise RuntimeFailure("config.json: process.args must not be empty")
    lin = spec.linux
    if not lin.namespace("mount"):
        raise RuntimeFailure("config.json: a mount namespace is required")
    userns = lin.namespace("user")
    if userns and not userns.path and not (lin.uid_mappings and lin.gid_mappings):
        raise RuntimeFailure("config.json: a new user namespace needs linux.uidMappings and linux.gidMappings")
    if (lin.uid_mappings or lin.gid_mappings) and not userns:
        raise RuntimeFailure("config.json: uid/gid mappings are set but there is no user namespace")
    if spec.process.terminal and not console_socket and detached:
        raise RuntimeFailure("cannot allocate a tty without --console-socket when the runtime does not stay attached")
    if console_socket and not spec.process.terminal:
        raise RuntimeFailure("--console-socket given but process.terminal is false")
    for key in lin.sysctl:
        if key in _SYSCTL_IPC or key.startswith("fs.mqueue."):
            if not lin.namespace("ipc"):
                raise RuntimeFailure(f"sysctl {key!r} is not allowed: the container shares the host's ipc namespace")
        elif key.startswith("net."):
            ns = lin.namespace("network")
            if not ns or ns.path:
                raise RuntimeFailure(f"sysctl {key!r} is not allowed: the container has no private network namespace")
        elif key in ("kernel.hostname", "kernel.domainname"):
            if not lin.namespace("uts"):
                raise RuntimeFailure(f"sysctl {key!r} is not allowed: the container shares the host's uts namespace")
        else:
            raise RuntimeFailure(f"sysctl {key!r} is not in a separate kernel namespace")
    process.check_rlimits(spec.process)
    for kind in ("prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"):
        for h in spec.hooks_of(kind):
            if not os.path.isfile(h.path) and kind not in ("createContainer", "startContainer"):
                raise RuntimeFailure(f"{kind} hook {h.path}: no such file")


def _atomic_write(path: str, data: str) -> None:
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w") as f:
        f.write(data)
    os.replace(tmp, path)


class Runtime:
    def __init__(self, root: str, log, sys=None):
        self.root = root
        self.log = log
        if sys is None:
            from ..kernel import real
            sys = real()
        self.sys = sys
        self._specs: dict[str, Spec] = {}  # config path -> parsed spec (run loads it once for all verbs)

    def load_spec(self, path: str) -> Spec:
        spec = self._specs.get(path)
        if spec is None:
            spec = self._specs[path] = load_spec(path)
        return spec

    # ---- reading state -------------------------------------------------
    def load(self, cid: str) -> st.State:
        return st.load(self.root, cid)

    def cgroup_of(self, s: st.State):
        return cgroups.load(s.cgroup) if s.cgroup else None

    def status(self, s: st.State) -> str:
        return st.status(self.root, s, self.cgroup_of(s))

    def state_json(self, cid: str) -> dict:
        s = self.load(cid)
        status = self.status(s)
        return {
            "ociVersion": "1.0.2", "id": s.id, "pid": s.pid if status != "stopped" else 0, "status": status,
            "bundle": s.bundle, "rootfs": s.rootfs, "created": s.created, "owner": s.owner,
            "annotations": s.annotations,
        }

    def hook_state(self, s: st.State, status: str) -> dict:
        return hooks.state_for_hooks(s.id, status, s.pid, s.bundle, s.annotations)

    # ---- create --------------------------------------------------------
    def create(self, cid: str, bundle: str, *, pid_file: str | None = None, console_socket: str | None = None,
               console_sock=None, preserve_fds: int = 0, no_pivot: bool = False, detached: bool = True) -> st.State:
        st.validate_id(cid)
        bundle = os.path.abspath(bundle)
        spec = self.load_spec(os.path.join(bundle, "config.json"))
        validate_spec(spec, console_socket=bool(console_socket or console_sock), detached=detached)
        rootfs = os.path.normpath(os.path.join(bundle, spec.root_path))
        if not os.path.isdir(rootfs):
            raise RuntimeFailure(f"rootfs ({rootfs}) does not exist")
        os.makedirs(self.root, mode=0o711, exist_ok=True)
        cdir = st.container_dir(self.root, cid)
        try:
            os.mkdir(cdir, 0o711)
        except FileExistsError:
            raise RuntimeFailure(f"container with id exists: {cid}") from None
        cg = pid = None
        try:
            return self._create(cid, bundle, spec, rootfs, cdir, pid_file, console_socket, console_sock,
                                preserve_fds, no_pivot, cgs := [])
        except BaseException:
            cg = cgs[0] if cgs else None
            pid = cgs[1] if len(cgs) > 1 else None
            if pid:
                self._kill_and_reap(pid)
            if cg is not None:
                try:
                    cg.destroy()
                except OSError as e:
                    self.log.warning(f"removing cgroup of {cid}: {e}")
            st.remove_dir(cdir)
            raise

    def _create(self, cid, bundle, spec, rootfs, cdir, pid_file, console_socket, console_sock, preserve_fds,
                no_pivot, track):
        from .init import InitConfig, init_main

        fifo = os.path.join(cdir, "exec.fifo")
        os.mkfifo(fifo, 0o622)
        os.chmod(fifo, 0o622)
        cg = cgroups.open_manager(spec.linux.cgroups_path, cid)
        track.append(cg)
        cg.create()
        cg.apply(cgroup_device_rules(spec.linux.resources, spec.linux.devices))
        if console_socket:
            from .console import connect_console_socket
            try:
                console_sock = connect_console_socket(console_socket)
            except OSError as e:
                raise RuntimeFailure(f"connecting to console socket {console_socket}: {e.strerror}") from None
        lin = spec.linux
        plan = NamespacePlan(
            join=[(n.type, n.path) for n in lin.namespaces if n.path],
            new=[n.type for n in lin.namespaces if not n.path],
            uid_mappings=lin.uid_mappings, gid_mappings=lin.gid_mappings,
        )
        s = st.State(id=cid, bundle=bundle, rootfs=rootfs, created=now_rfc3339(), owner=_owner(),
                     annotations=spec.annotations, cgroup=cg.to_state(), userns=plan.in_userns,
                     config=os.path.join(bundle, "config.json"),
                     resources=(spec.raw.get("linux") or {}).get("resources") or {})
        fifo_fd = os.open(fifo, os.O_PATH | os.O_CLOEXEC)
        prepared = None
        if lin.seccomp is not None:  # libseccomp's BPF generation costs ~10 ms: done once, kept on disk
            from .seccomp_cache import prepare
            prepared = prepare(lin.seccomp, os.path.join(self.root, ".seccomp-cache"))
        cfg = InitConfig(spec=spec, bundle=bundle, rootfs=rootfs, fifo_fd=fifo_fd, userns=plan.in_userns,
                         cgroup_mounts=cg.mounts_for_container(), console_sock=console_sock,
                         preserve_fds=preserve_fds, no_pivot=no_pivot,
                         state_for_hooks=self.hook_state(s, "created"), seccomp_prepared=prepared)

        def child(chan):
            init_main(self.sys, cfg, chan)

        try:
            pid, chan = spawn(self.sys, plan, child, join_cgroup=cg.join_self)
        except ChildError as e:
            raise RuntimeFailure(str(e)) from None
        finally:
            os.close(fifo_fd)
            if console_sock is not None:
                console_sock.close()
        track.append(pid)
        if plan.in_userns:
            process.set_oom_score_adj(spec.process.oom_score_adj, str(pid))
        s.pid = pid
        s.pid_start = st.proc_start_time(pid)
        s.namespaces = {n.type: f"/proc/{pid}/ns/{_nsfile(n.type)}" for n in lin.namespaces}
        try:
            chan.expect("hooks")
            hs = self.hook_state(s, "created")
            hooks.run_hooks("prestart", spec.hooks_of("prestart"), hs)
            hooks.run_hooks("createRuntime", spec.hooks_of("createRuntime"), hs)
            chan.send("hooks-done")
            chan.expect("ready")
        except (ChildError, EOFError) as e:
            raise RuntimeFailure(str(e) if isinstance(e, ChildError) else "container init exited during setup") from None
        finally:
            chan.close()
        st.save(self.root, s)
        if pid_file:
            _atomic_write(os.path.abspath(pid_file), str(pid))
        return s

    def _kill_and_reap(self, pid: int) -> None:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            wait_gone(pid, 0, 5.0)

    # ---- start ---------------------------------------------------------
    def start(self, cid: str) -> None:
        s = self.load(cid)
        status = self.status(s)
        if status == "stopped":
            raise RuntimeFailure("cannot start a container that has stopped")
        if status != "created":
            raise RuntimeFailure(f"cannot start an already {status} container")
        fifo = st.fifo_path(self.root, cid)
        fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        try:
            poller = select.poll()
            poller.register(fd, select.POLLIN)
            while True:
                if poller.poll(50):
                    try:
                        data = os.read(fd, 1)
                    except BlockingIOError:
                        continue
                    if data:
                        break
                if not st.proc_alive(s.pid, s.pid_start):
                    raise RuntimeFailure("cannot start a container that has stopped")
        finally:
            os.close(fd)
        os.unlink(fifo)
        spec = self._spec_of(s)
        if spec is not None:
            hooks.run_hooks("poststart", spec.hooks_of("poststart"), self.hook_state(s, "running"),
                            warn_only=True, log=self.log)

    def _spec_of(self, s: st.State) -> Spec | None:
        try:
            return self.load_spec(s.config)
        except Exception:
            return None

    # ---- signals and waiting -------------------------------------------
    def kill(self, cid: str, sig: int, all_procs: bool = False) -> None:
        s = self.load(cid)
        status = self.status(s)
        cg = self.cgroup_of(s)
        if all_procs and cg is not None:
            for pid in cg.pids():
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            return
        if status == "stopped":
            raise RuntimeFailure("container not running")
        try:
            os.kill(s.pid, sig)
        except ProcessLookupError:
            raise RuntimeFailure("container not running") from None

    # ---- delete --------------------------------------------------------
    def delete(self, cid: str, force: bool = False) -> None:
        try:
            s = self.load(cid)
        except ContainerNotFound:
            if force:
                return
            raise
        status = self.status(s)
        cg = self.cgroup_of(s)
        if status in ("running", "paused") and not force:
            raise RuntimeFailure(f"cannot delete container {cid} that is not stopped: {status}")
        if status != "stopped":
            self._kill_all(s, cg)
        spec = self._spec_of(s)
        if cg is not None:
            try:
                cg.destroy()
            except OSError as e:
                raise RuntimeFailure(f"container {cid}: removing its cgroup: {e}") from None
        st.remove_dir(st.container_dir(self.root, cid))
        if spec is not None:
            hooks.run_hooks("poststop", spec.hooks_of("poststop"), self.hook_state(s, "stopped"),
                            warn_only=True, log=self.log)

    def _kill_all(self, s: st.State, cg) -> None:
        if cg is not None:
            try:
                if cg.frozen():
                    for pid in cg.pids():
                        _try_kill(pid, signal.SIGKILL)
                    cg.thaw()
            except OSError:
                pass
        _try_kill(s.pid, signal.SIGKILL)
        if cg is not None:
            for pid in cg.pids():
                _try_kill(pid, signal.SIGKILL)
        wait_gone(s.pid, s.pid_start, 10.0)
        if cg is not None:
            deadline = time.monotonic() + 5
            while cg.pids() and time.monotonic() < deadline:
                for pid in cg.pids():
                    _try_kill(pid, signal.SIGKILL)
                time.sleep(0.01)

    # ---- pause / resume / ps / update -----------------------------------
    def pause(self, cid: str) -> None:
        s = self.load(cid)
        status = self.status(s)
        if status not in ("running", "created"):
            raise RuntimeFailure(f"container not running or created: {status}")
        self.cgroup_of(s).freeze()

    def resume(self, cid: str) -> None:
        s = self.load(cid)
        if self.status(s) != "paused":
            raise RuntimeFailure("container not paused")
        self.cgroup_of(s).thaw()

    def pids(self, cid: str) -> list[int]:
        s = self.load(cid)
        if self.status(s) == "stopped":
            raise RuntimeFailure("container is not running")
        return sorted(self.cgroup_of(s).pids())

    def update(self, cid: str, resources: dict) -> None:
        s = self.load(cid)
        if self.status(s) == "stopped":
            raise RuntimeFailure(f"container {cid} is not running, cannot update it")
        merged = _merge(dict(s.resources), resources)
        res = parse_resources(merged)
        self.cgroup_of(s).apply(res)
        s.resources = merged
        st.save(self.root, s)

    # ---- exec ----------------------------------------------------------
    def exec(self, cid: str, proc: Process, *, pid_file: str | None = None, console_socket: str | None = None,
             console_sock=None, preserve_fds: int = 0) -> int:
        from .execproc import exec_main

        s = self.load(cid)
        status = self.status(s)
        if status == "stopped":
            raise RuntimeFailure("cannot exec in a stopped container")
        if status == "paused":
            raise RuntimeFailure("cannot exec in a paused container")
        if proc.terminal and not (console_socket or console_sock):
            raise RuntimeFailure("cannot allocate a tty without --console-socket")
        process.check_rlimits(proc)
        if proc.terminal:
            from . import console  # noqa: F401  (exec_main cannot import once inside the container)
        if console_socket:
            from .console import connect_console_socket
            try:
                console_sock = connect_console_socket(console_socket)
            except OSError as e:
                raise RuntimeFailure(f"connecting to console socket {console_socket}: {e.strerror}") from None
        spec = self._spec_of(s)
        plan = NamespacePlan(join=[(t, p) for t, p in s.namespaces.items()])
        if plan.in_userns and "user" not in s.namespaces:
            plan.join.append(("user", f"/proc/{s.pid}/ns/user"))
        filt = None
        if spec is not None and spec.linux.seccomp is not None:
            from .seccomp_cache import prepare
            filt = prepare(spec.linux.seccomp, os.path.join(self.root, ".seccomp-cache"))
        cg = self.cgroup_of(s)

        def child(chan):
            exec_main(self.sys, proc, chan, seccomp_filter=filt, console_sock=console_sock, preserve_fds=preserve_fds,
                      in_userns=plan.in_userns)

        try:
            pid, chan = spawn(self.sys, plan, child, join_cgroup=cg.join_self if cg else None)
            try:
                if plan.in_userns:
                    process.set_oom_score_adj(proc.oom_score_adj, str(pid))
                chan.expect("ready")
            finally:
                chan.close()
        except (ChildError, EOFError) as e:
            raise RuntimeFailure(str(e) if isinstance(e, ChildError) else "exec process exited during setup") from None
        finally:
            if console_sock is not None:
                console_sock.close()
        if pid_file:
            _atomic_write(os.path.abspath(pid_file), str(pid))
        return pid


def _merge(base: dict, new: dict) -> dict:
    for k, v in new.items():
        if isinstance(v, dict) and isinstance(base.get(k), dict):
            base[k] = _merge(dict(base[k]), v)
        else:
            base[k] = v
    return base


def _nsfile(kind: str) -> str:
    from ..kernel.consts import NAMESPACES
    return NAMESPACES[kind][1]


def _owner() -> str:
    if os.geteuid() == 0:
        return "root"
    import pwd
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return str(os.geteuid())


def _try_kill(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def wait_gone(pid: int, start: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while st.proc_alive(pid, start):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def forward_signals(pid: int) -> None:
    """Signals sent to the runtime go to the container process instead."""
    def fwd(signum, _frame):
        _try_kill(pid, signum)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1,
                signal.SIGUSR2, signal.SIGWINCH):
        signal.signal(sig, fwd)


def wait_child(pid: int) -> int:
    """Wait for our child (the container process, reparented to us) and return docker-style status."""
    forward_signals(pid)
    while True:
        try:
            wpid, status = os.waitpid(-1, 0)
        except ChildProcessError:
            return 255
        except InterruptedError:
            continue
        if wpid == pid:
            if os.WIFEXITED(status):
                return os.WEXITSTATUS(status)
            return 128 + os.WTERMSIG(status)

