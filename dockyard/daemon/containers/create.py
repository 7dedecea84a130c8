"""POST /containers/create: validate, resolve the image and volumes, prepare the writable layer, record.

Nothing is left behind when any step fails (snapshot, directories, new volumes, record).
"""
from __future__ import annotations

import asyncio
import os
import shutil

from ..http import ApiError
from . import mounts as mnt
from . import names, record
from .specgen_errors import SpecGenError
from .specgen_request import parse_request


def _image_error(ref: str, e: Exception) -> ApiError:
    status = getattr(e, "http_status", 404)
    if status == 404:
        from ...images.reference import ReferenceError, parse
        try:
            shown = parse(ref).with_default_tag().familiar()
        except ReferenceError:
            return ApiError(400, f"invalid reference format: {ref}")
        return ApiError(404, f"No such image: {shown}")
    return ApiError(status, str(e))


def _host_config(body: dict) -> dict:
    hc = dict(body.get("HostConfig") or {})
    hc.setdefault("NetworkMode", "default")
    if hc["NetworkMode"] in ("", None):
        hc["NetworkMode"] = "default"
    hc.setdefault("RestartPolicy", {"Name": "no", "MaximumRetryCount": 0})
    if not hc["RestartPolicy"] or not hc["RestartPolicy"].get("Name"):
        hc["RestartPolicy"] = {"Name": "no", "MaximumRetryCount": 0}
    hc.setdefault("LogConfig", {"Type": "json-file", "Config": {}})
    if not (hc["LogConfig"] or {}).get("Type"):
        hc["LogConfig"] = {"Type": "json-file", "Config": (hc["LogConfig"] or {}).get("Config") or {}}
    for k, v in (("Binds", None), ("AutoRemove", False), ("Privileged", False), ("ReadonlyRootfs", False),
                 ("Runtime", None), ("ShmSize", 67108864), ("Init", None), ("CapAdd", None), ("CapDrop", None)):
        if hc.get(k) in (None, 0) and v is not None:
            hc[k] = v
        hc.setdefault(k, v)
    return hc


def _validate_host_config(hc: dict, runtimes: dict) -> None:
    pol = hc["RestartPolicy"]
    if pol["Name"] not in ("no", "always", "unless-stopped", "on-failure"):
        raise ApiError(400, f"invalid restart policy: unknown policy '{pol['Name']}'; use one of "
                            "'no', 'always', 'on-failure', or 'unless-stopped'")
    if pol.get("MaximumRetryCount") and pol["Name"] != "on-failure":
        raise ApiError(400, "invalid restart policy: maximum retry count can only be used with 'on-failure'")
    if (pol.get("MaximumRetryCount") or 0) < 0:
        raise ApiError(400, "invalid restart policy: maximum retry count cannot be negative")
    if hc.get("AutoRemove") and pol["Name"] not in ("no", ""):
        raise ApiError(400, "conflicting options: cannot specify both --restart and --rm")
    if hc["LogConfig"]["Type"] not in ("json-file", "none"):
        raise ApiError(400, f"logger: no log driver named '{hc['LogConfig']['Type']}' is registered")
    runtime = hc.get("Runtime")
    if runtime and runtime not in runtimes:
        raise ApiError(400, f"unknown or invalid runtime name: {runtime}")


def collect_mounts(svc, req, cfg: dict) -> list[mnt.Mount]:
    """-v/Binds, --mount/Mounts, --tmpfs, and the image's VOLUMEs (anonymous): specgen's rules."""
    from .specgen_mounts import user_mounts
    try:
        return user_mounts(req, list((cfg.get("Volumes") or {}).keys()))
    except (SpecGenError, mnt.MountError) as e:
        raise ApiError(400, str(e)) from None


def mount_record(m: mnt.Mount, volume: dict | None) -> dict:
    """The entry inspect shows under Mounts."""
    rw = not m.readonly
    if m.type == mnt.VOLUME:
        return {"Type": "volume", "Name": volume["Name"], "Source": volume["Mountpoint"], "Destination": m.target,
                "Driver": "local", "Mode": "z" if m.relabel == "z" else "", "RW": rw, "Propagation": "",
                "_anonymous": m.anonymous, "_nocopy": m.nocopy, "_subpath": m.volume_subpath}
    if m.type == mnt.BIND:
        return {"Type": "bind", "Source": m.source, "Destination": m.target, "Mode": m.relabel or "", "RW": rw,
                "Propagation": m.propagation or "rprivate", "_create": m.create_host_path,
                "_nonrecursive": m.nonrecursive}
    return {"Type": "tmpfs", "Source": "", "Destination": m.target, "Mode": "", "RW": rw, "Propagation": "",
            "_options": mnt.tmpfs_options(m)}


async def create_container(svc, body, name: str | None, platform: str | None) -> dict:
    if not isinstance(body, dict):
        raise ApiError(400, "invalid JSON: the request body must be an object")
    try:
        req = parse_request(body)
    except SpecGenError as e:
        raise ApiError(400, str(e)) from None
    image_ref = body.get("Image") or ""
    if not image_ref:
        raise ApiError(400, "Config cannot be empty in order to create a container")
    try:
        image = await asyncio.to_thread(svc.d.images.get, image_ref)
    except Exception as e:
        raise _image_error(image_ref, e) from None
    if name:
        try:
            stored_name = names.validate(name)
        except names.InvalidName as e:
            raise ApiError(400, str(e)) from None
        taken = svc.db.query("SELECT id FROM containers WHERE name = ?", (stored_name,))
        if taken:
            raise ApiError(409, f"Conflict. The container name \"{stored_name}\" is already in use by container "
                                f"\"{taken[0][0]}\". You have to remove (or rename) that container to be able to "
                                "reuse that name.")
    else:
        stored_name = names.generate(lambda n: bool(svc.db.query("SELECT 1 FROM containers WHERE name = ?", (n,))))
    image_cfg = (image.config.get("config") or {})
    cfg = record.merge_config(body, image_cfg)
    cfg["Image"] = image_ref
    if not (cfg.get("Entrypoint") or cfg.get("Cmd")):
        raise ApiError(400, "No command specified")
    hc = _host_config(body)
    _validate_host_config(hc, svc.cfg.runtimes)
    if not hc.get("Runtime"):
        hc["Runtime"] = svc.cfg.default_runtime  # inspect names the runtime, as dockerd does ("runc")
    if hc.get("MemorySwappiness") == -1:
        hc["MemorySwappiness"] = None  # -1 means "the default": dockerd stores it as null
    endpoints = await svc.d.networks.plan_create(req)
    mounts = collect_mounts(svc, req, cfg)

    cid = os.urandom(32).hex()
    if not cfg.get("Hostname"):
        cfg["Hostname"] = cid[:12]
    created_volumes: list[str] = []
    files = svc.files_dir(cid)
    snapshot_made = False
    try:
        chain = await asyncio.to_thread(svc.d.images.unpack, image.id)
        await asyncio.to_thread(svc.d.snapshotter.prepare, cid, chain)
        snapshot_made = True
        os.makedirs(files, mode=0o710, exist_ok=True)
        mount_docs = []
        for m in mounts:
            vol = None
            if m.type == mnt.VOLUME:
                existing = svc.db.get("volumes", m.source) if m.source else None
                vol = existing or svc.d.volumes.create(m.source, labels=m.volume_labels, anonymous=m.anonymous)
                if existing is None:
                    created_volumes.append(vol["Name"])
            elif m.type == mnt.BIND and not os.path.exists(m.source):
                if not m.create_host_path:
                    raise ApiError(400, f"invalid mount config for type \"bind\": bind source path does not "
                                        f"exist: {m.source}")
            mount_docs.append(mount_record(m, vol))
        path, args = record.command_of(cfg)
        now = record.now_rfc3339()
        doc = {
            "Id": cid, "Created": now, "Path": path, "Args": args, "State": record.initial_state(),
            "Image": image.id, "ResolvConfPath": os.path.join(files, "resolv.conf"),
            "HostnamePath": os.path.join(files, "hostname"), "HostsPath": os.path.join(files, "hosts"),
            "LogPath": svc.log_path(cid) if hc["LogConfig"]["Type"] == "json-file" else "",
            "Name": stored_name, "RestartCount": 0, "Driver": svc.d.snapshotter_name, "Platform": "linux",
            "MountLabel": "", "ProcessLabel": "", "AppArmorProfile": "", "ExecIDs": None, "HostConfig": hc,
            "GraphDriver": {"Name": svc.d.snapshotter_name, "Data": None}, "Mounts": mount_docs, "Config": cfg,
            "NetworkSettings": _network_settings(hc),
            "_body": body,
        }
        svc.d.networks.record_create(doc, endpoints)
        svc.save(doc)
    except BaseException:
        if snapshot_made:
            try:
                await asyncio.to_thread(svc.d.snapshotter.remove, cid)
            except Exception:
                pass
        for v in created_volumes:
            try:
                svc.d.volumes.remove(v)
            except Exception:
                pass
        shutil.rmtree(files, ignore_errors=True)
        raise
    svc.emit(doc, "create")
    return {"Id": cid, "Warnings": []}


def _network_settings(hc: dict) -> dict:
    mode = hc.get("NetworkMode") or "default"
    nets = {}
    if mode not in ("host", "none") and not mode.startswith("container:"):
        nets = {}
    return {"Bridge": "", "SandboxID": "", "HairpinMode": False, "LinkLocalIPv6Address": "",
            "LinkLocalIPv6PrefixLen": 0, "Ports": {}, "SandboxKey": "", "SecondaryIPAddresses": None,
            "SecondaryIPv6Addresses": None, "EndpointID": "", "Gateway": "", "GlobalIPv6Address": "",
            "GlobalIPv6PrefixLen": 0, "IPAddress": "", "IPPrefixLen": 0, "IPv6Gateway": "", "MacAddress": "",
            "Networks": nets}
