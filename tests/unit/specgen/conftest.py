"""Fixtures for spec generation: a fake host and a rootfs with /etc/passwd and /etc/group."""
from __future__ import annotations

import json

import pytest

from dockyard.daemon.containers.specgen import DaemonOptions, ImageDefaults, SpecInputs
from dockyard.daemon.containers.specgen_host import CAP_BY_NUMBER, HostInfo
from specgen_helpers import CID, GOLDEN, make_rootfs


@pytest.fixture
def rootfs(tmp_path):
    return make_rootfs(str(tmp_path / "rootfs"))


@pytest.fixture
def host(tmp_path):
    """A host like the one the golden cases were captured on (2 CPUs, no blkio weight, docker's caps)."""
    resolv = tmp_path / "host-resolv.conf"
    resolv.write_text("nameserver 10.255.255.53\n")
    hosts = tmp_path / "host-hosts"
    hosts.write_text("127.0.0.1 localhost\n127.0.0.1 vm\n")
    mountinfo = tmp_path / "mountinfo"
    mountinfo.write_text("22 1 254:1 / / rw,relatime - ext4 /dev/vda1 rw\n")
    return HostInfo(capabilities=CAP_BY_NUMBER[:38], ncpu=2, cpus="0-1", mems="0", hostname="vm",
                    resolv_conf=str(resolv), hosts=str(hosts), blkio_weight=False, blkio_weight_device=False,
                    init_path="/usr/bin/docker-init", mountinfo=str(mountinfo))


@pytest.fixture
def make_inputs(tmp_path, rootfs, host):
    """SpecInputs for a container with the fixture rootfs and host; keyword overrides."""
    def make(image=None, **kw):
        kw.setdefault("host", host)
        kw.setdefault("options", DaemonOptions())
        files = kw.pop("files_dir", str(tmp_path / "containers" / CID))
        return SpecInputs(kw.pop("container_id", CID), kw.pop("rootfs", rootfs), files,
                          image=image if image is not None else ImageDefaults(
                              env=["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                              cmd=["sh"]), **kw)
    return make


@pytest.fixture(scope="session")
def golden():
    with open(GOLDEN) as f:
        return json.load(f)
