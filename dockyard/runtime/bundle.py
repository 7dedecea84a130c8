"""Making OCI bundles: a busybox rootfs from the host's busybox-static, and a config.json.

Used by the quick start, the tests and the benchmarks (Docker Hub is unreachable here).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess

from .defaults import default_spec

BUSYBOX = "/bin/busybox"


def busybox_rootfs(rootfs: str, busybox: str = BUSYBOX) -> str:
    """A minimal root: /bin/busybox, one link per applet, /etc/passwd and /etc/group."""
    if not os.path.exists(busybox):
        raise FileNotFoundError(f"{busybox} not found: install Debian's busybox-static")
    for d in ("bin", "dev", "etc", "proc", "sys", "tmp", "root", "home", "var", "usr/bin", "usr/sbin", "sbin"):
        os.makedirs(os.path.join(rootfs, d), exist_ok=True)
    os.chmod(os.path.join(rootfs, "tmp"), 0o1777)
    target = os.path.join(rootfs, "bin", "busybox")
    if not os.path.exists(target):
        shutil.copy2(busybox, target)
    applets = subprocess.run([busybox, "--list"], capture_output=True, text=True, check=True).stdout.split()
    for name in applets:
        if name == "busybox":
            continue
        link = os.path.join(rootfs, "bin", name)
        if not os.path.lexists(link):
            os.symlink("busybox", link)
    with open(os.path.join(rootfs, "etc", "passwd"), "w") as f:
        f.write("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n")
    with open(os.path.join(rootfs, "etc", "group"), "w") as f:
        f.write("root:x:0:\ntty:x:5:\nnogroup:x:65534:\n")
    return rootfs


def make_bundle(bundle: str, args: list[str], *, rootfs: str | None = None, terminal: bool = False,
                readonly: bool = False, **overrides) -> str:
    """config.json (runc's defaults, our args) next to a rootfs; returns the config path."""
    os.makedirs(bundle, exist_ok=True)
    spec = default_spec()
    spec["process"]["args"] = list(args)
    spec["process"]["terminal"] = terminal
    spec["root"]["readonly"] = readonly
    if rootfs:
        spec["root"]["path"] = rootfs
    else:
        busybox_rootfs(os.path.join(bundle, "rootfs"))
    for k, v in overrides.items():
        spec[k] = v
    path = os.path.join(bundle, "config.json")
    with open(path, "w") as f:
        json.dump(spec, f, indent=1)
    return path
