"""The escape battery: attacks from inside a default container, each of which must fail; and the
proof that Dockyard's seccomp profile (not only the missing capabilities) is what stops the
kernel-facing ones."""
import os
import socket

import pytest

from secdef_support import parse_probe

pytestmark = pytest.mark.root

EPERM_ATTACKS = (
    "mount-tmpfs", "mount-proc-again", "remount-root-rw", "umount-proc", "pivot_root",
    "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load", "reboot",
    "open_by_handle_at", "unshare-user", "unshare-mount", "unshare-net", "clone-newuser", "clone-newns",
    "setns", "keyctl", "add_key", "request_key", "bpf", "perf_event_open", "userfaultfd",
    "settimeofday", "clock_settime", "sethostname", "setdomainname", "iopl", "ioperm", "swapon", "acct",
    "syslog", "personality-addr-no-randomize", "socket-alg", "socket-vsock", "io_uring_setup",
    "open-block-device", "open-dev-mem",
)
# attacks that only the seccomp filter stops (with the filter off, the kernel lets them through
# or answers something else than EPERM): the filter is really in place
SECCOMP_ONLY = ("keyctl", "add_key", "request_key", "unshare-user", "clone3", "bpf", "perf_event_open",
                "socket-alg", "socket-vsock", "personality-addr-no-randomize", "io_uring_setup", "setns")


def battery(d, probe, *args) -> dict[str, str]:
    out = d.docker("run", "--rm", "-v", f"{probe}:/probe:ro", *args, "busybox", "sh", "-c",
                   f"/probe battery {d.sock}").stdout
    res = parse_probe(out)
    assert len(res) >= 50, out
    return res


@pytest.fixture(scope="module")
def default_run(d, probe):
    return battery(d, probe)


@pytest.mark.parametrize("attack", EPERM_ATTACKS)
def test_attack_fails_with_eperm(default_run, attack):
    assert default_run[attack] == "EPERM", f"{attack}: {default_run[attack]}"


def test_clone3_answers_enosys_so_libc_falls_back(default_run):
    assert default_run["clone3"] == "ENOSYS"


def test_masked_and_readonly_proc_files(default_run):
    for f in ("read-kcore", "read-keys", "read-timer_list", "read-sched_debug"):
        assert default_run[f] == "ENOENT", f  # masked (empty), or absent on this kernel
    assert default_run["write-proc-sys"] == "EROFS"
    assert default_run["write-core_pattern"] == "EROFS"
    want = "EROFS" if os.path.exists("/proc/sysrq-trigger") else "ENOENT"
    assert default_run["write-sysrq-trigger"] == want
    want = "EROFS" if os.path.exists("/sys/kernel/uevent_helper") else "ENOENT"
    assert default_run["write-sys-kernel"] == want


def test_host_processes_and_daemon_socket_out_of_reach(default_run, d):
    assert default_run["kill-outside"] == "ESRCH"          # no host process can be named
    for what in ("connect-daemon-socket", "connect-run-dockyard-sock", "connect-docker-sock"):
        assert default_run[what] == "ENOENT", what
    s = socket.socket(socket.AF_UNIX)
    try:
        s.connect(d.sock)                                  # the socket is there, on the host
    finally:
        s.close()


def test_host_hostname_unchanged(default_run):
    assert socket.gethostname() != "escaped"


def test_the_seccomp_filter_is_the_barrier(d, probe, default_run):
    unconfined = battery(d, probe, "--security-opt", "seccomp=unconfined")
    for attack in SECCOMP_ONLY:
        assert default_run[attack] in ("EPERM", "ENOSYS"), attack
        assert unconfined[attack] != default_run[attack], f"{attack}: {unconfined[attack]} without the filter"
    # the other layers hold without the filter too
    for attack in ("mount-tmpfs", "open_by_handle_at", "settimeofday", "sethostname", "open-block-device"):
        assert unconfined[attack] in ("EPERM", "ENOENT"), (attack, unconfined[attack])


def test_a_granted_capability_opens_its_group(d, probe):
    admin = battery(d, probe, "--cap-add", "SYS_ADMIN")
    assert admin["mount-tmpfs"] == "ok"
    assert admin["keyctl"] == "ok"
    assert admin["clone3"] != "ENOSYS"
    assert admin["open_by_handle_at"] == "EPERM"     # needs CAP_DAC_READ_SEARCH: still denied
    assert admin["socket-alg"] == "EPERM"            # never allowed by the default profile
