"""Leaving nothing behind after an engine test: processes, mounts and cgroups found by what they name.

Engines spread their traces: podman's conmon and containerd's shims outlive the command that started
them, both engines mount rootfs and /dev/shm under their own root, and the OCI runtime makes cgroups —
runc from the hierarchy root, dockyard-runtime below its caller's own cgroup. Every helper here finds
those traces from the kernel's view (/proc, mountinfo, the cgroup filesystems) by a name unique to the
test session, so teardown works even when the engine itself is wedged.
"""
from __future__ import annotations

import os
import signal
import subprocess
import time


def _unescape(s: str) -> str:
    return s.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\")


def mounts_under(prefix: str) -> list[str]:
    """Mount points at or below ``prefix`` in this mount namespace, deepest first."""
    prefix = prefix.rstrip("/")
    out = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mp = _unescape(line.split()[4])
            if mp == prefix or mp.startswith(prefix + "/"):
                out.append(mp)
    return sorted(set(out), key=len, reverse=True)


def unmount_under(prefix: str) -> None:
    for _ in range(3):  # stacked mounts need more than one pass
        mps = mounts_under(prefix)
        if not mps:
            return
        for mp in mps:
            subprocess.run(["umount", "-l", mp], capture_output=True)


def procs_mentioning(text: str) -> list[int]:
    """Live processes (not zombies, not us) whose command line contains ``text``."""
    me = os.getpid()
    found = []
    needle = text.encode()
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == me:
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as f:
                cmd = f.read()
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        if needle in cmd and stat[stat.rindex(b")") + 2:][:1] not in (b"Z", b"X"):
            found.append(int(name))
    return found


def kill_and_wait(pids: list[int], timeout: float = 5.0) -> list[int]:
    """SIGKILL each pid and wait until it is gone (reaped or a zombie); returns the survivors."""
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + timeout
    alive = list(pids)
    while alive and time.monotonic() < deadline:
        alive = [p for p in alive if _alive(p)]
        if alive:
            time.sleep(0.02)
    return alive


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rindex(b")") + 2:][:1] not in (b"Z", b"X")


def _cgroup_bases() -> list[str]:
    """Each cgroup hierarchy's root and this process's own cgroup in it (dockyard-runtime nests there)."""
    own = []
    with open("/proc/self/cgroup") as f:
        for line in f:
            _, names, path = line.rstrip("\n").split(":", 2)
            own.append((set(names.split(",")) if names else set(), path))
    bases = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            sep = fields.index("-", 6)
            fstype, root, mp = fields[sep + 1], _unescape(fields[3]), _unescape(fields[4])
            if fstype not in ("cgroup", "cgroup2"):
                continue
            bases.append(mp)
            opts = set(fields[sep + 3].split(","))
            for names, path in own:
                if (fstype == "cgroup2" and not names) or (fstype == "cgroup" and names and names <= opts):
                    if path.startswith(root):
                        rel = path[len(root):].strip("/")
                        if rel:
                            bases.append(os.path.join(mp, rel))
    return sorted(set(bases))


def cgroup_dirs(name: str) -> list[str]:
    """Every cgroup directory called ``name`` at a hierarchy root or below our own cgroup."""
    return [d for d in (os.path.join(b, name) for b in _cgroup_bases()) if os.path.isdir(d)]


def _tree(top: str) -> list[str]:
    out = []
    for dirpath, dirnames, _ in os.walk(top):
        out.extend(os.path.join(dirpath, d) for d in dirnames)
    return sorted(out, key=len, reverse=True) + [top]


def cgroup_pids(top: str) -> list[int]:
    pids = set()
    for d in _tree(top):
        try:
            with open(os.path.join(d, "cgroup.procs")) as f:
                pids.update(int(x) for x in f.read().split())
        except OSError:
            pass
    return sorted(pids)


def remove_cgroup_trees(name: str) -> list[str]:
    """Thaw the trees called ``name`` (a frozen task cannot die), kill whatever runs in any of them,
    remove them; returns what is left."""
    tops = cgroup_dirs(name)
    for top in tops:
        for d in _tree(top):
            state = os.path.join(d, "freezer.state")
            if os.path.exists(state):
                try:
                    with open(state, "w") as f:
                        f.write("THAWED")
                except OSError:
                    pass
    kill_and_wait(sorted({pid for top in tops for pid in cgroup_pids(top)}))
    for top in tops:
        for d in _tree(top):
            for _ in range(50):  # a killed task can take a moment to leave its cgroup
                try:
                    os.rmdir(d)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)
    return cgroup_dirs(name)


def leftovers(tmp: str, cgroup_name: str) -> list[str]:
    """A description of everything still there; empty when clean."""
    out = [f"process {p}: {_cmdline(p)}" for p in procs_mentioning(tmp)]
    out += [f"mount {m}" for m in mounts_under(tmp)]
    out += [f"cgroup {d}" for d in cgroup_dirs(cgroup_name)]
    return out


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return "?"


def container_cgroups(tree_name: str, cid: str) -> list[str]:
    """cgroup directories whose name contains ``cid`` inside the trees called ``tree_name``."""
    found = []
    for top in cgroup_dirs(tree_name):
        for dirpath, dirnames, _ in os.walk(top):
            found.extend(os.path.join(dirpath, d) for d in dirnames if cid in d)
    return found
