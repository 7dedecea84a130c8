"""Fixtures for the security unit tests: Docker's default seccomp profile, in OCI form."""
import json
import os

import pytest

from dockyard.spec.runtime import Seccomp, SeccompArg, SeccompSyscall

MOBY_PROFILE = "/work/shared/reference/seccomp/default-moby-v28.5.2.json"
if not os.path.exists(MOBY_PROFILE):  # the checkout's sibling, wherever it lives
    MOBY_PROFILE = os.path.join(os.path.dirname(__file__), "../../../../shared/reference/seccomp/default-moby-v28.5.2.json")

DOCKER_DEFAULT_CAPS = [
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
    "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
]


def moby_to_oci(d: dict, caps=DOCKER_DEFAULT_CAPS, arch="amd64") -> Seccomp:
    """What dockerd writes into config.json for its default profile on amd64."""
    caps = set(caps)
    calls = []
    for s in d["syscalls"]:
        inc, exc = s.get("includes") or {}, s.get("excludes") or {}
        if inc.get("arches") and arch not in inc["arches"]:
            continue
        if exc.get("arches") and arch in exc["arches"]:
            continue
        if inc.get("caps") and not set(inc["caps"]) <= caps:
            continue
        if exc.get("caps") and set(exc["caps"]) & caps:
            continue
        args = [SeccompArg(a["index"], a["value"], a.get("valueTwo", 0), a["op"]) for a in s.get("args") or []]
        calls.append(SeccompSyscall(list(s["names"]), s["action"], s.get("errnoRet"), args))
    arches = []
    for m in d["archMap"]:
        if m["architecture"] == "SCMP_ARCH_X86_64":
            arches = [m["architecture"], *(m["subArchitectures"] or [])]
    return Seccomp(d["defaultAction"], d.get("defaultErrnoRet"), arches, [], "", calls)


@pytest.fixture
def moby_default():
    if not os.path.exists(MOBY_PROFILE):
        pytest.skip(f"reference profile {MOBY_PROFILE} absent")
    with open(MOBY_PROFILE) as f:
        return moby_to_oci(json.load(f))


def run_in_child(fn, timeout=20):
    """Fork; the child runs ``fn()`` (which may exec) with stdout and stderr on a pipe,
    then exits 0 (or 1 and prints the exception). Returns (wait status, output text)."""
    import signal
    import time
    import traceback

    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: never return into pytest
        code = 1
        try:
            os.close(r)
            os.dup2(w, 1)
            os.dup2(w, 2)
            import resource
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # SIGSYS would dump core
            out = fn()
            if out is not None:
                os.write(1, str(out).encode())
            code = 0
        except BaseException:
            try:
                os.write(2, traceback.format_exc().encode())
            except BaseException:
                pass
        os._exit(code)
    os.close(w)
    import select
    chunks, deadline, killed = [], time.monotonic() + timeout, False
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([r], [], [], left)[0]:
                os.kill(pid, signal.SIGKILL)
                killed = True
                break
            chunk = os.read(r, 65536)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(r)
        _, status = os.waitpid(pid, 0)
    assert not killed, f"child {pid} timed out after {timeout}s: {b''.join(chunks)!r}"
    return status, b"".join(chunks).decode(errors="replace")


@pytest.fixture
def child():
    return run_in_child
