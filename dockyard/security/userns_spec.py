"""A remapped daemon's containers: the user namespace in the OCI config, and host paths the
container's root must reach.

``apply(config, host_config, idmap)`` adds the ``user`` namespace and the id mappings to a
config made by specgen, unless the container asked for ``--userns=host``; it refuses, with
dockerd's messages, the modes a remapped container cannot have (``--privileged``, the host's
network or pid namespace) without ``--userns=host``.

``prepare_host_paths(files_dir, volume_dirs, idmap)``: the container's files directory
(hostname, hosts, resolv.conf, bind-mounted by the runtime from inside the user namespace)
becomes ``root:<mapped root gid>`` mode 0710, so the mapped root may traverse it and nobody else
may; a named or anonymous volume's ``_data`` still owned by the host's root is given to the
mapped root (a new volume is the container root's to write, as with dockerd).
"""
from __future__ import annotations

import os

from .remap import IdMap


class UsernsError(ValueError):
    """The container's settings cannot run in the daemon's user namespace."""


def uses_userns(host_config: dict) -> bool:
    return (host_config.get("UsernsMode") or "") != "host"


def check(host_config: dict) -> None:
    if not uses_userns(host_config):
        return
    if host_config.get("Privileged"):
        raise UsernsError("privileged mode is incompatible with user namespaces.  You must run the container "
                          "in the host namespace when running privileged mode")
    if (host_config.get("NetworkMode") or "") == "host":
        raise UsernsError("cannot share the host's network namespace when user namespaces are enabled")
    if (host_config.get("PidMode") or "") == "host":
        raise UsernsError("cannot share the host PID namespace when user namespaces are enabled")


def apply(config: dict, host_config: dict, idmap: IdMap) -> None:
    check(host_config)
    if not uses_userns(host_config):
        return
    linux = config.setdefault("linux", {})
    nss = linux.setdefault("namespaces", [])
    if not any(n.get("type") == "user" for n in nss):
        at = next((i for i, n in enumerate(nss) if n.get("type") == "cgroup"), len(nss))
        nss.insert(at, {"type": "user"})
    linux["uidMappings"], linux["gidMappings"] = idmap.spec_mappings()
    sysctl = linux.get("sysctl") or {}
    if sysctl.get("net.ipv4.ping_group_range") == "0 2147483647":
        # Docker's default names every group; in a user namespace only mapped ones can be named
        sysctl["net.ipv4.ping_group_range"] = f"0 {sum(m.size for m in idmap.gids) - 1}"


def write_owned_files(files_dir: str, files: dict[str, str], idmap: IdMap) -> dict[str, str]:
    """Write the container's /etc files (hostname, hosts, resolv.conf) owned by the mapped root,
    so root in the container may change them as with dockerd; returns what is left to write
    (nothing)."""
    from ..daemon.containers.specgen_etc import write_files
    write_files(files_dir, files)
    for name in files:
        os.lchown(os.path.join(files_dir, name), *idmap.root())
    return {}


def make_owned_dirs(rootfs: str, path: str, idmap: IdMap, mkdir_all_in_root) -> None:
    """``mkdir_all_in_root(rootfs, path)``, with the directories it creates owned by the mapped root."""
    from ..runtime.paths import secure_join
    target = secure_join(rootfs, path)
    rel = os.path.relpath(target, rootfs)
    missing, cur = [], rootfs
    for comp in ([] if rel == "." else rel.split("/")):
        cur = os.path.join(cur, comp)
        if not os.path.lexists(cur):
            missing.append(cur)
    mkdir_all_in_root(rootfs, path)
    for d in missing:
        os.lchown(d, *idmap.root())


def prepare_host_paths(files_dir: str, volume_dirs, idmap: IdMap) -> None:
    _, gid = idmap.root()
    os.makedirs(files_dir, mode=0o710, exist_ok=True)
    os.chown(files_dir, 0, gid)
    os.chmod(files_dir, 0o710)
    uid0, gid0 = idmap.root()
    for d in volume_dirs:
        try:
            st = os.lstat(d)
        except FileNotFoundError:
            continue
        if (st.st_uid, st.st_gid) == (0, 0):
            os.lchown(d, uid0, gid0)
