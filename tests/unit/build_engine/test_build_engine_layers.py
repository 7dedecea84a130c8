"""Mount-point stubs the runtime made are left out of a step's layer; times are clamped."""
import os

from dockyard.build.engine.layers import RUNTIME_STUBS, clamp_times, remove_stubs
from dockyard.snapshots.snapshotter import Layers


def tree(base, spec: dict):
    for path, what in spec.items():
        p = os.path.join(base, path)
        if what == "dir":
            os.makedirs(p, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "w") as f:
                f.write(what)


def listing(base):
    out = []
    for dirpath, dirnames, filenames in os.walk(base):
        for n in dirnames + filenames:
            out.append(os.path.relpath(os.path.join(dirpath, n), base))
    return sorted(out)


def test_overlay_stubs_go_real_changes_stay(tmp_path):
    lower, upper = str(tmp_path / "lower"), str(tmp_path / "upper")
    tree(lower, {"etc/passwd": "root", "proc": "dir"})
    tree(upper, {"etc/hosts": "", "etc/hostname": "", "dev": "dir", "sys": "dir", "proc": "dir",
                 "mnt/cache": "dir", "made.txt": "x", "etc/resolv.conf": "nameserver 1.1.1.1\n"})
    os.chmod(os.path.join(upper, "etc"), os.stat(os.path.join(lower, "etc")).st_mode)
    layers = Layers(upper, (lower,), "overlay")
    removed = remove_stubs(layers, list(RUNTIME_STUBS) + ["/mnt/cache"])
    assert sorted(removed) == ["/dev", "/etc/hostname", "/etc/hosts", "/mnt/cache", "/sys"]
    # /proc exists in the parent (an upper copy is no stub), a written resolv.conf is a change,
    # /mnt was made only for the mount point
    assert listing(upper) == ["etc", "etc/resolv.conf", "made.txt", "proc"]


def test_parent_dirs_only_the_stubs_changed_go_too(tmp_path):
    lower, upper = str(tmp_path / "lower"), str(tmp_path / "upper")
    tree(lower, {"etc/passwd": "root"})
    tree(upper, {"etc/hosts": ""})
    os.chmod(os.path.join(upper, "etc"), os.stat(os.path.join(lower, "etc")).st_mode)
    remove_stubs(Layers(upper, (lower,), "overlay"), RUNTIME_STUBS)
    assert listing(upper) == []
    # scratch: no parent at all
    tree(upper, {"etc/hosts": "", "proc": "dir"})
    remove_stubs(Layers(upper, (), "overlay"), RUNTIME_STUBS)
    assert listing(upper) == []


def test_native_snapshots_keep_parent_dirs(tmp_path):
    lower, upper = str(tmp_path / "lower"), str(tmp_path / "upper")
    tree(lower, {"etc/passwd": "root"})
    tree(upper, {"etc/passwd": "root", "etc/hosts": "", "dev": "dir"})
    remove_stubs(Layers(upper, (lower,), "delete"), RUNTIME_STUBS)
    assert listing(upper) == ["etc", "etc/passwd"]


def test_clamp_times(tmp_path):
    tree(str(tmp_path), {"a/b": "x", "c": "y"})
    os.utime(tmp_path / "c", (100, 100))
    os.symlink("nowhere", tmp_path / "a" / "l")
    clamp_times(str(tmp_path), 1000)
    assert os.stat(tmp_path / "a" / "b").st_mtime == 1000 and os.stat(tmp_path / "a").st_mtime == 1000
    assert os.stat(tmp_path / "c").st_mtime == 100
    assert os.lstat(tmp_path / "a" / "l").st_mtime == 1000
