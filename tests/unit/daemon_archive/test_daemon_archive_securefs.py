"""The in-container path resolver (securefs) on temporary trees: it must never leave the root."""
import errno
import os
import shutil
import threading

import pytest

from dockyard.daemon.containers.securefs import ContainerFS, clean


@pytest.fixture
def tree(tmp_path):
    """host/ (with host/etc/shadow = "host") and host/rootfs (the container, etc/shadow = "container")."""
    host = tmp_path / "host"
    root = host / "rootfs"
    (host / "etc").mkdir(parents=True)
    (host / "etc" / "shadow").write_text("host")
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "shadow").write_text("container")
    (root / "tmp").mkdir()
    (root / "a" / "b").mkdir(parents=True)
    (root / "a" / "b" / "f").write_text("f")
    return root


def read(r):
    """The bytes of a resolved regular file, read relative to its directory descriptor."""
    with r:
        fd = os.open(r.name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=r.dir_fd)
        try:
            return os.read(fd, 100).decode()
        finally:
            os.close(fd)


def test_plain_path_and_missing(tree):
    with ContainerFS(str(tree)) as fs:
        r = fs.resolve("/a/b/f")
        assert (r.path, r.name, r.exists) == ("/a/b/f", "f", True)
        assert read(r) == "f"
        with pytest.raises(FileNotFoundError):
            fs.resolve("/a/nope/x")
        with fs.resolve("/a/nope/x/../y", must_exist=False) as r:
            assert (r.path, r.exists) == ("/a/nope/y", False)
        with fs.resolve("/a/nope/../b", follow_last=True) as r:   # ".." is lexical after resolution
            assert r.path == "/a/b" and r.name is None and os.path.samestat(os.fstat(r.dir_fd),
                                                                               os.stat(tree / "a" / "b"))


def test_dotdot_never_goes_above_the_root(tree):
    with ContainerFS(str(tree)) as fs:
        assert read(fs.resolve("/../../../etc/shadow")) == "container"
        assert read(fs.resolve("/a/../../../../etc/shadow")) == "container"
        with fs.resolve("/..", follow_last=True) as r:
            assert r.path == "/" and os.path.samestat(os.fstat(r.dir_fd), os.stat(tree))


def test_absolute_symlink_restarts_at_the_container_root(tree):
    os.symlink("/", tree / "evil")
    os.symlink("/etc/shadow", tree / "tmp" / "sh")
    with ContainerFS(str(tree)) as fs:
        assert read(fs.resolve("/evil/etc/shadow")) == "container"
        assert read(fs.resolve("/tmp/sh", follow_last=True)) == "container"
        with fs.resolve("/tmp/sh") as r:   # the last component is not followed by default
            assert (r.path, r.name) == ("/tmp/sh", "sh")
            assert os.path.islink(f"/proc/self/fd/{r.dir_fd}/{r.name}")


def test_relative_symlink_escape_is_clamped(tree):
    os.symlink("../../../../etc", tree / "a" / "up")
    os.symlink("../../../../../../../../../etc/shadow", tree / "a" / "b" / "deep")
    with ContainerFS(str(tree)) as fs:
        assert read(fs.resolve("/a/up/shadow")) == "container"
        assert read(fs.resolve("/a/b/deep", follow_last=True)) == "container"
        with fs.resolve("/a/up", follow_last=True) as r:
            assert r.path == "/etc"


def test_symlink_loops_fail_with_eloop(tree):
    os.symlink("l2", tree / "l1")
    os.symlink("l1", tree / "l2")
    os.symlink("self/x", tree / "self")
    with ContainerFS(str(tree)) as fs:
        for p in ("/l1/x", "/self/y"):
            with pytest.raises(OSError) as e:
                fs.resolve(p)
            assert e.value.errno == errno.ELOOP
        with fs.resolve("/l1") as r:   # not followed: the link itself
            assert r.name == "l1"


def test_non_directory_in_the_middle(tree):
    with ContainerFS(str(tree)) as fs:
        with pytest.raises(NotADirectoryError):
            fs.resolve("/etc/shadow/x")
        os.symlink("/etc/shadow/..", tree / "tmp" / "dd")
        with fs.resolve("/tmp/dd", follow_last=True) as r:   # dockerd's lexical ".." after a file
            assert r.path == "/etc"


def test_directory_swapped_for_a_symlink_mid_walk(tree):
    """The container replaces a directory with a symlink to "/" between our lstat and open: the
    open refuses to follow it, and the new symlink is resolved inside the container."""
    host_root = tree.parent
    swapped = []

    def hook(dirfd, name):
        if name == "a" and not swapped:
            shutil.rmtree(tree / "a")
            os.symlink(str(host_root), tree / "a")   # an absolute *host* path, as an attacker would
            swapped.append(name)

    inside = tree / str(host_root).lstrip("/")   # the same path inside the container
    (inside / "etc").mkdir(parents=True)
    (inside / "etc" / "shadow").write_text("decoy inside the container")
    with ContainerFS(str(tree)) as fs:
        fs.on_step = hook
        r = fs.resolve("/a/etc/shadow")
        assert swapped == ["a"]
        assert r.path == str(host_root) + "/etc/shadow"   # resolved inside the container...
        assert read(r) == "decoy inside the container"    # ...never the host's file ("host")


def test_concurrent_swapping_never_escapes(tree):
    """A thread keeps swapping /w between a directory and a symlink to "/" while we resolve."""
    host = tree.parent
    (tree / "w").mkdir()
    stop = threading.Event()

    def swapper():
        while not stop.is_set():
            try:
                os.rename(tree / "w", tree / "w.dir")
                os.symlink(str(host), tree / "w")
                os.unlink(tree / "w")
                os.rename(tree / "w.dir", tree / "w")
            except OSError:
                pass

    t = threading.Thread(target=swapper)
    t.start()
    seen = set()
    try:
        with ContainerFS(str(tree)) as fs:
            for _ in range(2000):
                try:
                    seen.add(read(fs.resolve("/w/etc/shadow")))
                except (FileNotFoundError, NotADirectoryError):
                    seen.add(None)
    finally:
        stop.set()
        t.join()
    assert "host" not in seen


def test_create_makes_directories_inside(tree):
    os.symlink("/", tree / "evil")
    with ContainerFS(str(tree)) as fs:
        with fs.resolve("/evil/new/dir", create=True) as r:
            assert r.path == "/new/dir" and r.name is None
        assert (tree / "new" / "dir").is_dir()
        assert not (tree.parent / "new").exists()
        with pytest.raises(NotADirectoryError):
            fs.resolve("/etc/shadow/x", create=True)
    with ContainerFS(str(tree), rootfs_writable=False) as fs:
        with pytest.raises(OSError) as e:
            fs.resolve("/a/new", create=True)
        assert e.value.errno == errno.EROFS and not (tree / "a" / "new").exists()
        with fs.resolve("/a/b", create=True) as r:   # nothing to make: fine
            assert r.path == "/a/b"


def test_mounts_are_served_from_their_sources(tree, tmp_path):
    vol = tmp_path / "vol"
    (vol / "sub").mkdir(parents=True)
    (vol / "v.txt").write_text("volume")
    nested = tmp_path / "nested"
    nested.mkdir()
    (nested / "n.txt").write_text("nested")
    hosts = tmp_path / "hosts"
    hosts.write_text("hosts file")
    (tree / "data").mkdir()
    (tree / "data" / "v.txt").write_text("hidden under the mount")
    os.symlink("/data", tree / "lnk")
    os.symlink("/", tree / "data" / "root")   # only in the rootfs: hidden by the volume
    mounts = [("/data/sub", str(nested), False), ("/data", str(vol), True), ("/etc/hosts", str(hosts), True)]
    with ContainerFS(str(tree), mounts, rootfs_writable=False) as fs:
        r = fs.resolve("/lnk/v.txt")
        assert r.mount.destination == "/data" and r.writable
        assert read(r) == "volume"
        r = fs.resolve("/data/sub/n.txt")
        assert r.mount.destination == "/data/sub" and not r.writable
        assert read(r) == "nested"
        r = fs.resolve("/etc/hosts")
        assert read(r) == "hosts file"
        with fs.resolve("/etc/shadow") as r:
            assert r.mount is None and not r.writable
        with pytest.raises(FileNotFoundError):
            fs.resolve("/data/root/etc/shadow")
        with pytest.raises(NotADirectoryError):
            fs.resolve("/etc/hosts/x")


def test_volume_subpath_is_walked_without_following_symlinks(tree, tmp_path):
    """The subpath lives in the volume, which the container writes: a symlink it plants there
    (here to the host's /etc) must not become the mount's source."""
    vol = tmp_path / "vol"
    (vol / "sub" / "dir").mkdir(parents=True)
    (vol / "sub" / "dir" / "f").write_text("in subpath")
    (vol / "sub" / "file").write_text("a file subpath")
    os.symlink(str(tree.parent / "etc"), vol / "evil")
    (tree / "m1").mkdir()
    (tree / "m3").mkdir()
    (tree / "etc" / "m2").write_text("")
    mounts = [("/m1", str(vol), True, "sub/dir"), ("/etc/m2", str(vol), True, "sub/file"),
              ("/m3", str(vol), True, "evil")]
    with ContainerFS(str(tree), mounts) as fs:
        assert read(fs.resolve("/m1/f")) == "in subpath"
        assert read(fs.resolve("/etc/m2")) == "a file subpath"
        with pytest.raises(FileNotFoundError):
            fs.resolve("/m3/shadow")
        with pytest.raises(FileNotFoundError):
            fs.open_mount(fs.mount_at("/m3"))


def test_mount_destination_through_a_rootfs_symlink(tree, tmp_path):
    """A volume at /var/run/x where /var/run -> /run lands at /run/x (as the runtime mounts it)."""
    (tree / "run").mkdir()
    (tree / "var").mkdir()
    os.symlink("/run", tree / "var" / "run")
    vol = tmp_path / "vol"
    vol.mkdir()
    (vol / "s").write_text("sock")
    with ContainerFS(str(tree), [("/var/run/x", str(vol), True)]) as fs:
        assert set(fs.mounts) == {"/run/x"}
        assert read(fs.resolve("/run/x/s")) == "sock"
        assert read(fs.resolve("/var/run/x/s")) == "sock"


def test_read_file_refuses_fifos_and_follows_in_scope(tree):
    os.mkfifo(tree / "tmp" / "fifo")
    os.symlink("/etc/shadow", tree / "tmp" / "s")
    with ContainerFS(str(tree)) as fs:
        assert fs.read_file("/tmp/fifo") is None   # returns at once: never blocks on a FIFO
        assert fs.read_file("/tmp/s") == b"container"
        assert fs.read_file("/nope") is None
        with pytest.raises(OSError):
            fs.read_file("/etc/shadow", limit=3)


def test_clean():
    assert clean("") == "/" and clean("a/../../b") == "/b" and clean("//x//y/") == "/x/y"
    with pytest.raises(ValueError):
        clean("a\0b")
