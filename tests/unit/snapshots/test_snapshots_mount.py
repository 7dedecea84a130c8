"""Mount option handling, checked through the recording kernel (no root)."""
from __future__ import annotations

import errno

import pytest

from dockyard.snapshots.mount import (MS_BIND, MS_NODEV, MS_NOSUID, MS_PRIVATE, MS_RDONLY, MS_REC,
                                      MS_REMOUNT, PAGE_SIZE, Mount, MountError, RecordingKernel,
                                      mount_all, parse_options, unmount)


def test_parse_options_splits_flags_and_data():
    flags, prop, data = parse_options(["ro", "nosuid", "nodev", "rprivate", "index=off", "lowerdir=/a:/b"])
    assert flags == MS_RDONLY | MS_NOSUID | MS_NODEV
    assert prop == MS_PRIVATE | MS_REC
    assert data == ["index=off", "lowerdir=/a:/b"]
    assert parse_options(["ro", "rw"])[0] == 0  # later options win


def test_bind_read_only_needs_a_remount():
    k = RecordingKernel()
    mount_all([Mount("bind", "/src", ("rbind", "ro", "nosuid"))], "/mnt", k)
    assert k.calls == [
        ("mount", "/src", "/mnt", None, MS_BIND | MS_REC | MS_NOSUID, None, None),
        ("mount", None, "/mnt", None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID, None, None),
    ]


def test_overlay_options_go_to_data():
    k = RecordingKernel()
    m = Mount("overlay", "overlay", ("index=off", "workdir=/w", "upperdir=/u", "lowerdir=/l1:/l2"))
    mount_all([m], "/mnt", k)
    assert k.calls == [("mount", "overlay", "/mnt", "overlay", 0,
                        "index=off,workdir=/w,upperdir=/u,lowerdir=/l1:/l2", None)]


def test_long_lowerdir_is_mounted_relative_from_the_common_dir():
    base = "/var/lib/dockyard/snapshots/overlay/snapshots"
    lowers = ":".join(f"{base}/{i}/fs" for i in range(300, 100, -1))
    m = Mount("overlay", "overlay", ("workdir=" + base + "/301/work", "upperdir=" + base + "/301/fs",
                                     "lowerdir=" + lowers))
    k = RecordingKernel()
    mount_all([m], "/mnt", k)
    (_, src, target, fstype, flags, data, cwd), = k.calls
    assert len(",".join(m.options)) > PAGE_SIZE
    assert cwd == base
    assert len(data) < PAGE_SIZE
    assert data.startswith("workdir=301/work,upperdir=301/fs,lowerdir=300/fs:299/fs:")


def test_too_long_even_relative_is_refused():
    lowers = ":".join(f"/x{i:05d}/{'d' * 30}" for i in range(200))
    k = RecordingKernel()
    with pytest.raises(MountError, match="overlay options are .* bytes"):
        mount_all([Mount("overlay", "overlay", ("lowerdir=" + lowers,))], "/mnt", k)
    assert k.calls == []


class FailingKernel(RecordingKernel):
    def __init__(self, fail_at):
        super().__init__()
        self.fail_at = fail_at

    def mount(self, *a, **kw):
        if len([c for c in self.calls if c[0] == "mount"]) == self.fail_at:
            self.calls.append(("mount-failed",))
            raise OSError(errno.EPERM, "Operation not permitted")
        super().mount(*a, **kw)


def test_mount_all_undoes_earlier_mounts_on_failure():
    k = FailingKernel(fail_at=1)
    with pytest.raises(MountError, match=r"mount bind '/b' on '/mnt': Operation not permitted"):
        mount_all([Mount("bind", "/a", ("rbind",)), Mount("bind", "/b", ("rbind",))], "/mnt", k)
    assert k.calls[-1][0] == "umount" and k.mounted["/mnt"] == 0


def test_unmount_everything_stacked_and_tolerate_unmounted():
    k = RecordingKernel()
    mount_all([Mount("bind", "/a", ("rbind",)), Mount("bind", "/b", ("rbind",))], "/mnt", k)
    unmount("/mnt", k)
    assert k.mounted["/mnt"] == 0
    assert [c for c in k.calls if c[0] == "umount"] == [("umount", "/mnt", 0)] * 3  # 3rd: EINVAL
    unmount("/elsewhere", k)  # not a mount point: fine


def test_propagation_is_a_separate_call():
    k = RecordingKernel()
    mount_all([Mount("bind", "/a", ("rbind", "rprivate"))], "/mnt", k)
    assert k.calls[-1] == ("mount", None, "/mnt", None, MS_PRIVATE | MS_REC, None, None)


def test_to_oci():
    m = Mount("overlay", "overlay", ("lowerdir=/a", "ro"))
    assert m.readonly
    assert m.to_oci("/") == {"destination": "/", "type": "overlay", "source": "overlay",
                             "options": ["lowerdir=/a", "ro"]}
