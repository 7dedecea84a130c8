"""The engine fixtures' teardown leaves nothing behind even after a test that failed half-way: running,
paused and exec'd containers, and a containerd killed under its shims."""
from __future__ import annotations

import os
import shutil
import signal

import pytest

from engines_cleanup import cgroup_dirs, leftovers, procs_mentioning
from engines_containerd import Containerd
from engines_image import IMAGE, rootfs_tar, write_oci_archive
from engines_podman import Podman

pytestmark = pytest.mark.root


def _need(*tools):
    missing = [t for t in tools if not shutil.which(t)]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed")


def test_podman_teardown_after_abandoned_containers(tmp_path_factory, runtime_under_test, engines_rootfs, session_tag):
    _need("podman", "conmon", "unshare")
    tag = f"{session_tag}tp"
    p = Podman(str(tmp_path_factory.mktemp("tdp")), runtime_under_test.binary, tag)
    try:
        p.import_image(rootfs_tar(engines_rootfs))
        for name in ("a", "b", "c"):
            p(*p.run_args("-d", "--name", name), IMAGE, "sleep", "1000")
        p("pause", "b")
        p("exec", "--detach", "c", "sleep", "999")
        assert procs_mentioning(p.base) and cgroup_dirs(tag) and p.runtime_ids()
    finally:
        left = p.close()
    assert left == []
    assert not os.path.exists(p.base)


def test_containerd_teardown_after_daemon_killed(tmp_path_factory, runtime_under_test, engines_rootfs, session_tag):
    _need("containerd", "ctr", "containerd-shim-runc-v2")
    tag = f"{session_tag}tc"
    binary = runtime_under_test.binary if runtime_under_test.is_dockyard else None
    c = Containerd(str(tmp_path_factory.mktemp("tdc")), binary, tag)
    try:
        c.start()
        archive = os.path.join(c.base, "img.tar")
        write_oci_archive(engines_rootfs, archive, IMAGE)
        c.ctr("images", "import", archive)
        for cid in ("a", "b"):
            c.ctr(*c.run_args(cid, "-d", "--null-io"), IMAGE, cid, "sleep", "1000")
        c.ctr("task", "pause", "b")
        c.ctr(*c.exec_args("a", "bg", "--detach"), "sleep", "999")
        os.kill(c.proc.pid, signal.SIGKILL)  # the shims and containers stay behind
        c.proc.wait(10)
        assert procs_mentioning(c.base) and cgroup_dirs(tag) and len(c.shim_sockets()) == 2
    finally:
        left = c.close()
    assert c.shim_sockets() == []
    assert left == []
    assert leftovers(c.base, tag) == [] and not os.path.exists(c.base)
