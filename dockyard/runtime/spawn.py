"""Getting a process into namespaces: parent -> intermediate -> container process.

The parent (the runtime command, single-threaded) forks an intermediate that
joins existing namespaces (setns), creates the user namespace (the parent writes
its id maps), unshares the rest, and forks the container process, which is pid 1
of a new pid namespace. The intermediate reports that pid and exits; the parent
is a child subreaper, so the container process becomes its child.
"""
from __future__ import annotations

from _collections_abc import Callable  # already loaded at start-up (collections.abc would import collections)

import os
from ..util.record import record as dataclass, field

from ..kernel import consts as C
from ..spec.runtime import IDMapping
from .errors import RuntimeFailure
from .sync import Channel, ChildError


@dataclass
class NamespacePlan:
    join: list[tuple[str, str]] = field(default_factory=list)  # (type, path) to setns into
    new: list[str] = field(default_factory=list)  # types to create
    uid_mappings: list[IDMapping] = field(default_factory=list)
    gid_mappings: list[IDMapping] = field(default_factory=list)

    @property
    def in_userns(self) -> bool:
        return "user" in self.new or any(t == "user" for t, _ in self.join)


def _order(kind: str) -> int:
    # user first (it grants the capabilities for the rest), mount last
    return {"user": 0, "mount": 9}.get(kind, 5)


def write_id_maps(pid: int, plan: NamespacePlan) -> None:
    def fmt(maps):
        return "".join(f"{m.container_id} {m.host_id} {m.size}\n" for m in maps)
    try:
        if plan.gid_mappings:
            with open(f"/proc/{pid}/gid_map", "w") as f:
                f.write(fmt(plan.gid_mappings))
        if plan.uid_mappings:
            with open(f"/proc/{pid}/uid_map", "w") as f:
                f.write(fmt(plan.uid_mappings))
    except OSError as e:
        raise RuntimeFailure(f"writing user namespace id mappings: {e.strerror}") from None


def spawn(sys, plan: NamespacePlan, child_main: Callable[[Channel], None], *,
          join_cgroup: Callable[[], None] | None = None) -> tuple[int, Channel]:
    """Start the container process; returns (its host pid, the parent's channel to it).

    ``join_cgroup`` runs in the intermediate before anything else, so that it and the
    container process (forked later) are in the container's cgroups.
    """
    ns_fds = []
    try:
        for kind, path in sorted(plan.join, key=lambda x: _order(x[0])):
            try:
                ns_fds.append((kind, os.open(path, os.O_RDONLY | os.O_CLOEXEC)))
            except OSError as e:
                raise RuntimeFailure(f"cannot open {kind} namespace {path}: {e.strerror}") from None
        parent, child = Channel.pair()
        sys.prctl(C.PR_SET_CHILD_SUBREAPER, 1)
        # Not dumpable from here on, and so neither is any fork: a process inside the container
        # can then neither ptrace nor open /proc/<pid>/{exe,fd,mem,cwd,root} of the runtime's
        # processes while they join it (CVE-2019-5736's class); execve makes the user's program
        # dumpable again.
        sys.prctl(C.PR_SET_DUMPABLE, 0)
        mid = os.fork()
        if mid == 0:
            _intermediate(sys, plan, ns_fds, parent, child, child_main, join_cgroup)  # never returns
    finally:
        for _, fd in ns_fds:
            os.close(fd)
    child.close()
    try:
        parent.send("go")
        msg = parent.recv()
        if msg.get("type") == "userns":
            write_id_maps(mid, plan)
            parent.send("mapped")
            msg = parent.recv()
        if msg.get("type") == "error":
            raise ChildError(msg.get("msg", "unknown error"))
        if msg.get("type") != "pid":
            raise ChildError(f"unexpected message {msg.get('type')!r}")
        return msg["pid"], parent
    except EOFError:
        raise ChildError("the container process exited during setup") from None
    finally:
        os.waitpid(mid, 0)


def _intermediate(sys, plan, ns_fds, parent: Channel, child: Channel, child_main, join_cgroup) -> None:
    code = 1
    try:
        parent.close()
        child.expect("go")
        if join_cgroup is not None:
            join_cgroup()
        for kind, fd in ns_fds:
            try:
                sys.setns(fd, C.NAMESPACES[kind][0])
            except OSError as e:
                raise RuntimeFailure(f"joining {kind} namespace: {e.strerror}") from None
        new_flags = 0
        for kind in plan.new:
            if kind != "user":
                new_flags |= C.NAMESPACES[kind][0]
        if "user" in plan.new:
            sys.unshare(C.CLONE_NEWUSER)
            child.send("userns")
            child.expect("mapped")
        if plan.in_userns:
            os.setresgid(0, 0, 0)
            os.setresuid(0, 0, 0)
        if new_flags:
            sys.unshare(new_flags)
        # the container process may only talk on the channel once its pid has been reported
        hold_r, hold_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                os.close(hold_w)
                os.read(hold_r, 1)
                os.close(hold_r)
                child_main(child)
            except BaseException as e:  # child_main reports its own errors; this is the last resort
                os.write(2, f"dockyard-runtime: container process: {type(e).__name__}: {e}\n".encode())
            os._exit(1)
        os.close(hold_r)
        child.send("pid", pid=pid)
        os.close(hold_w)
        code = 0
    except BaseException as e:
        try:
            child.send("error", msg=str(e) or type(e).__name__)
        except OSError:
            pass
    os._exit(code)
