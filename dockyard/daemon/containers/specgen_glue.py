"""The daemon's side of spec generation: the inputs specgen needs, from the container's record."""
from __future__ import annotations

import os

from ..http import ApiError
from .specgen import DaemonOptions, Peer, SpecGenError, SpecInputs, generate


def _image_config(svc, doc: dict):
    from ...spec.image import ImageConfig
    try:
        img = svc.d.images.get(doc["Image"])
    except Exception:
        return None
    try:
        return ImageConfig.from_json(img.config)
    except Exception:
        return None


def _lookup(svc):
    def lookup(ref: str):
        try:
            other = svc.get(ref)
        except ApiError:
            return None
        running = other["State"]["Running"]
        files = svc.files_dir(other["Id"])
        return Peer(other["Id"], other["State"]["Pid"] if running else 0, other["Config"].get("Hostname") or "",
                    files, other["HostConfig"].get("IpcMode") or "private",
                    shm_path=os.path.join(files, "mounts", "shm"),
                    domainname=other["Config"].get("Domainname") or "")
    return lookup


_HOST = []


def host_info():
    """The host's facts, probed once per daemon."""
    if not _HOST:
        from .specgen import HostInfo
        _HOST.append(HostInfo.probe())
    return _HOST[0]


def inputs_for(svc, doc: dict, rootfs: str) -> SpecInputs:
    vols = {m["Destination"]: m["Source"] for m in doc.get("Mounts") or [] if m.get("Type") == "volume"}
    opts = DaemonOptions(cgroup_parent=svc.cfg.cgroup_parent,
                         host_gateway_ip=getattr(getattr(svc.d, "networks", None), "gateway", ""))
    from ...security.seccomp_hook import hook as seccomp_hook
    return SpecInputs(doc["Id"], rootfs, svc.files_dir(doc["Id"]), name=doc["Name"].lstrip("/"),
                      image=_image_config(svc, doc), volume_paths=vols, lookup=_lookup(svc), options=opts,
                      host=host_info(), seccomp=seccomp_hook)


def generate_for_start(svc, doc: dict, rootfs: str) -> tuple[dict, dict]:
    """(config.json, /etc files) for starting the container; prepares what specgen asks for."""
    from ...runtime.paths import mkdir_all_in_root
    try:
        gen = generate(doc["_body"], inputs_for(svc, doc, rootfs))
    except SpecGenError as e:
        raise ApiError(400, str(e)) from None
    remap = None
    if svc.cfg.remap is not None:  # userns-remap: the user namespace, and paths its root must reach
        from ...security import userns_spec
        try:
            userns_spec.apply(gen.config, doc["HostConfig"], svc.cfg.remap)
        except userns_spec.UsernsError as e:
            raise ApiError(400, str(e)) from None
        if userns_spec.uses_userns(doc["HostConfig"]):
            remap = svc.cfg.remap
            userns_spec.prepare_host_paths(svc.files_dir(doc["Id"]), [m["Source"] for m in doc.get("Mounts") or []
                                                                      if m.get("Type") == "volume"], remap)
            gen.files = userns_spec.write_owned_files(svc.files_dir(doc["Id"]), gen.files, remap)
    for d in gen.host_dirs:
        os.makedirs(d, mode=0o755, exist_ok=True)
    if gen.working_dir and gen.working_dir != "/":
        if remap is not None:
            userns_spec.make_owned_dirs(rootfs, gen.working_dir, remap, mkdir_all_in_root)
        else:
            mkdir_all_in_root(rootfs, gen.working_dir)
    if gen.shm:
        path, size = gen.shm
        os.makedirs(path, mode=0o1777, exist_ok=True)
        if not os.path.ismount(path):
            from ...kernel import real
            real().mount("shm", path, "tmpfs", 2 | 4 | 8, f"mode=1777,size={size}")
    return gen.config, gen.files


def resources_for(svc, doc: dict, host_config: dict) -> dict:
    """linux.resources for `update`, from a HostConfig with the new values."""
    body = dict(doc["_body"])
    body["HostConfig"] = dict(body.get("HostConfig") or {}, **{k: v for k, v in host_config.items()
                                                              if k in ("CpuShares", "Memory", "BlkioWeight",
                                                                       "CpuPeriod", "CpuQuota", "CpusetCpus",
                                                                       "CpusetMems", "MemoryReservation",
                                                                       "MemorySwap", "NanoCpus", "PidsLimit",
                                                                       "OomKillDisable", "MemorySwappiness")})
    try:
        gen = generate(body, inputs_for(svc, doc, svc.rootfs_dir(doc["Id"])))
    except SpecGenError as e:
        raise ApiError(400, str(e)) from None
    res = dict(gen.config["linux"].get("resources") or {})
    res.pop("devices", None)
    return res
