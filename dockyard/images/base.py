"""Base images made offline from this host: busybox (from busybox-static) and Debian (debootstrap).

``make_busybox`` is deterministic: the same /bin/busybox gives the same layer,
config and image ID every time (fixed owners and mtimes, sorted entries).
``make_debian`` runs ``debootstrap --variant=minbase`` once per suite and keeps
the result under a cache directory, so later calls only pack it into a layer.
"""
from __future__ import annotations

import io
import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from . import compose, export, timeutil

if TYPE_CHECKING:
    from .model import Image
    from .store import ImageStore

DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

PASSWD = """\
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
sync:x:4:100:sync:/bin:/bin/sync
mail:x:8:8:mail:/var/spool/mail:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
operator:x:37:37:Operator:/var:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
"""

GROUP = """\
root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
lp:x:7:
mail:x:8:
kmem:x:9:
wheel:x:10:root
cdrom:x:11:
dialout:x:18:
floppy:x:19:
video:x:28:
audio:x:29:
tape:x:32:
www-data:x:33:
operator:x:37:
utmp:x:43:
plugdev:x:46:
staff:x:50:
lock:x:54:
netdev:x:82:
users:x:100:
nobody:x:65534:
"""

SHADOW = """\
root:*::0:::::
daemon:*::0:::::
bin:*::0:::::
sys:*::0:::::
sync:*::0:::::
mail:*::0:::::
www-data:*::0:::::
operator:*::0:::::
nobody:*::0:::::
"""

# directory -> mode, as in Docker's busybox image
DIRS = {
    "bin": 0o755, "dev": 0o755, "etc": 0o755, "etc/network": 0o755, "home": 0o755, "proc": 0o555,
    "root": 0o700, "sys": 0o555, "tmp": 0o1777, "usr": 0o755, "usr/sbin": 0o755, "var": 0o755,
    "var/spool": 0o755, "var/spool/mail": 0o755, "var/www": 0o755,
}


class BaseImageError(RuntimeError):
    pass


def busybox_applets(busybox: str) -> list[str]:
    try:
        out = subprocess.run([busybox, "--list"], check=True, capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError) as e:
        raise BaseImageError(f"cannot list the applets of {busybox}: {e}") from None
    names = sorted({n.strip() for n in out.splitlines() if n.strip()})
    bad = [n for n in names if "/" in n or n in (".", "..")]
    if bad:
        raise BaseImageError(f"{busybox} --list gave unexpected names: {bad[:3]}")
    return [n for n in names if n != "busybox"]  # a link named busybox would replace the binary


def busybox_version(busybox: str) -> str:
    try:
        out = subprocess.run([busybox], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return ""
    first = out.splitlines()[0] if out else ""
    return first.split(" multi-call")[0].strip()


def _entry(name: str, mtime: int, type_: bytes, mode: int, size: int = 0, linkname: str = "") -> tarfile.TarInfo:
    ti = tarfile.TarInfo(name)
    ti.type, ti.mode, ti.size, ti.linkname, ti.mtime = type_, mode, size, linkname, mtime
    ti.uid = ti.gid = 0
    ti.uname = ti.gname = ""
    return ti


def busybox_rootfs_tar(out, busybox: str = "/bin/busybox") -> None:
    """Write the busybox rootfs as a deterministic, uncompressed tar to ``out``."""
    st = os.stat(busybox)
    mtime = int(st.st_mtime)
    applets = busybox_applets(busybox)
    files = {"etc/passwd": PASSWD, "etc/group": GROUP, "etc/hostname": "", "etc/hosts": "",
             "etc/resolv.conf": "", "etc/shadow": SHADOW}
    entries: list[tuple[str, tarfile.TarInfo, bytes | None]] = []
    for d, mode in DIRS.items():
        entries.append((d, _entry(d, mtime, tarfile.DIRTYPE, mode), None))
    for name, text in files.items():
        data = text.encode()
        entries.append((name, _entry(name, mtime, tarfile.REGTYPE, 0o640 if name == "etc/shadow" else 0o644,
                                     len(data)), data))
    entries.append(("bin/busybox", _entry("bin/busybox", mtime, tarfile.REGTYPE, 0o755, st.st_size), None))
    for a in applets:
        entries.append((f"bin/{a}", _entry(f"bin/{a}", mtime, tarfile.SYMTYPE, 0o777, linkname="busybox"), None))
    entries.sort(key=lambda e: e[0].split("/"))
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tf:
        for name, ti, data in entries:
            if name == "bin/busybox":
                with open(busybox, "rb") as f:
                    tf.addfile(ti, f)
            elif data is not None:
                tf.addfile(ti, io.BytesIO(data))
            else:
                tf.addfile(ti)


def make_busybox(store: "ImageStore", tag: str | None = "busybox:latest", busybox: str = "/bin/busybox") -> "Image":
    """Build (or re-register) the busybox image from the host's static busybox binary."""
    if not os.path.isfile(busybox):
        raise BaseImageError(f"{busybox} not found (install Debian's busybox-static)")
    created = timeutil.format(int(os.stat(busybox).st_mtime))
    with tempfile.TemporaryFile() as tmp:
        busybox_rootfs_tar(tmp, busybox)
        tmp.seek(0)
        layer = compose.store_layer_tar(store.content, tmp, "busybox rootfs", compression="none")
    version = busybox_version(busybox) or "BusyBox"
    config = {
        **compose.host_platform_fields(),
        "config": {"Env": [DEFAULT_PATH], "Cmd": ["sh"]},
        "created": created,
        "history": [
            {"created": created, "created_by": f"/bin/sh -c #(nop) ADD file:{layer.digest.split(':')[1]} in / ",
             "comment": f"{version} from {busybox}"},
            {"created": created, "created_by": '/bin/sh -c #(nop)  CMD ["sh"]', "empty_layer": True},
        ],
    }
    return compose.write_image(store, config, [layer], tags=[tag] if tag else [])


# --- Debian ------------------------------------------------------------------

def default_cache_dir() -> Path:
    return Path(os.environ.get("DOCKYARD_CACHE_DIR") or "/var/cache/dockyard")


def debootstrap_dir(cache_dir: Path, suite: str) -> Path:
    return Path(cache_dir) / "debootstrap" / f"{suite}-minbase"


def ensure_debootstrap(suite: str = "bookworm", mirror: str | None = None, cache_dir: str | os.PathLike | None = None,
                       timeout: float = 1800) -> Path:
    """The cached minbase root of ``suite``, running debootstrap (as root) the first time."""
    cache = Path(cache_dir) if cache_dir else default_cache_dir()
    final = debootstrap_dir(cache, suite)
    if (final.parent / (final.name + ".done")).exists() and final.is_dir():
        return final
    if os.geteuid() != 0:
        raise BaseImageError("debootstrap needs root")
    if not shutil.which("debootstrap"):
        raise BaseImageError("debootstrap is not installed (apt-get install debootstrap)")
    final.parent.mkdir(parents=True, exist_ok=True)
    work = final.parent / f".{final.name}.tmp-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    cmd = ["debootstrap", "--variant=minbase", suite, str(work)] + ([mirror] if mirror else [])
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0:
            tail = (proc.stdout + proc.stderr).strip().splitlines()[-5:]
            raise BaseImageError(f"debootstrap {suite} failed (exit {proc.returncode}): {' | '.join(tail)}")
        _clean_rootfs(work)
        shutil.rmtree(final, ignore_errors=True)
        os.rename(work, final)
        (final.parent / (final.name + ".done")).write_text(suite + "\n")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return final


def _clean_rootfs(root: Path) -> None:
    """Drop what an image should not carry: apt caches and lists, logs, device nodes."""
    for sub in ("var/cache/apt/archives", "var/lib/apt/lists", "var/log", "dev", "proc", "sys", "run", "tmp",
                "debootstrap"):
        p = root / sub
        if not p.is_dir() or p.is_symlink():
            continue
        for child in p.iterdir():
            if child.name in ("partial", "lock") and sub != "dev":
                continue
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
    for f in (root / "var/cache/apt").glob("*.bin"):
        f.unlink()


def make_debian(store: "ImageStore", tag: str | None = "debian:bookworm", suite: str = "bookworm",
                mirror: str | None = None, cache_dir: str | os.PathLike | None = None) -> "Image":
    """A one-layer Debian image from a cached ``debootstrap --variant=minbase`` root."""
    root = ensure_debootstrap(suite, mirror, cache_dir)
    created = timeutil.format(int((root.parent / (root.name + ".done")).stat().st_mtime))
    with tempfile.TemporaryFile() as tmp:
        with tarfile.open(fileobj=tmp, mode="w|", format=tarfile.PAX_FORMAT) as tf:
            export.write_tree(str(root), tf)
        tmp.seek(0)
        layer = compose.store_layer_tar(store.content, tmp, f"debian {suite} rootfs", compression="none")
    config = {
        **compose.host_platform_fields(),
        "config": {"Env": [DEFAULT_PATH], "Cmd": ["bash"]},
        "created": created,
        "history": [
            {"created": created, "created_by": f"/bin/sh -c #(nop) ADD file:{layer.digest.split(':')[1]} in / ",
             "comment": f"debootstrap --variant=minbase {suite}"},
            {"created": created, "created_by": '/bin/sh -c #(nop)  CMD ["bash"]', "empty_layer": True},
        ],
    }
    return compose.write_image(store, config, [layer], tags=[tag] if tag else [])
