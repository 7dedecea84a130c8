"""System endpoints: /_ping, /version, /info, /events, /system/df."""
from __future__ import annotations

import asyncio
import json
import os
import platform
import time

from ..events import Filter
from ..http import ApiError, ClientGone, Response, json_response
from .common import parse_filters

VERSION = "0.1.0"


def _kernel() -> str:
    return platform.release()


def _os_name() -> str:
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return "Linux"


def _mem_total() -> int:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _arch() -> str:
    m = platform.machine()
    return {"x86_64": "x86_64", "aarch64": "aarch64"}.get(m, m)


def _goarch() -> str:
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())


def version_info(app) -> dict:
    return {
        "Platform": {"Name": "Dockyard"},
        "Components": [{"Name": "Engine", "Version": VERSION,
                        "Details": {"ApiVersion": app.api_version, "MinAPIVersion": app.min_api_version,
                                    "Os": "linux", "Arch": _goarch(), "KernelVersion": _kernel(),
                                    "GitCommit": "dockyard", "GoVersion": f"python{platform.python_version()}",
                                    "BuildTime": "", "Experimental": "false"}}],
        "Version": VERSION, "ApiVersion": app.api_version, "MinAPIVersion": app.min_api_version,
        "GitCommit": "dockyard", "GoVersion": f"python{platform.python_version()}", "Os": "linux",
        "Arch": _goarch(), "KernelVersion": _kernel(), "BuildTime": "",
    }


def register(app, daemon) -> None:
    cfg = daemon.cfg

    async def ping(req):
        return Response(200, b"OK", [("Content-Type", "text/plain; charset=utf-8"),
                                     ("Cache-Control", "no-cache, no-store, must-revalidate"),
                                     ("Pragma", "no-cache"), ("Builder-Version", "1")])

    app.add_route("GET", "/_ping", ping)
    app.add_route("HEAD", "/_ping", ping)

    @app.route("GET", "/version")
    async def version(req):
        return json_response(version_info(app))

    @app.route("GET", "/info")
    async def info(req):
        counts = daemon.containers.counts()
        return json_response({
            "ID": daemon.daemon_id, "Containers": counts["total"], "ContainersRunning": counts["running"],
            "ContainersPaused": counts["paused"], "ContainersStopped": counts["stopped"],
            "Images": len(daemon.images.list(all=True)), "Driver": daemon.snapshotter_name,
            "DriverStatus": [["Backing Filesystem", "extfs"]], "DockerRootDir": cfg.data_root,
            "Plugins": {"Volume": ["local"], "Network": ["bridge", "host", "null"], "Authorization": [],
                        "Log": ["json-file"]},
            "MemoryLimit": True, "SwapLimit": os.path.exists(
                "/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes"),
            "KernelMemory": False, "KernelMemoryTCP": False, "CpuCfsPeriod": True, "CpuCfsQuota": True,
            "CPUShares": True, "CPUSet": True, "PidsLimit": True, "OomKillDisable": True, "IPv4Forwarding": True,
            "BridgeNfIptables": False, "BridgeNfIp6tables": False, "Debug": cfg.log_level == "debug",
            "NFd": len(os.listdir("/proc/self/fd")), "NGoroutines": len(asyncio.all_tasks()),
            "SystemTime": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + "Z",
            "LoggingDriver": cfg.log_driver, "CgroupDriver": "cgroupfs",
            "CgroupVersion": "2" if not os.path.isdir("/sys/fs/cgroup/memory") else "1",
            "NEventsListener": len(daemon.events.queues), "KernelVersion": _kernel(),
            "OperatingSystem": _os_name(), "OSVersion": "", "OSType": "linux", "Architecture": _arch(),
            "NCPU": os.cpu_count() or 1, "MemTotal": _mem_total(),
            "IndexServerAddress": "https://index.docker.io/v1/",
            "RegistryConfig": {"InsecureRegistryCIDRs": ["127.0.0.0/8"], "IndexConfigs": {},
                               "Mirrors": list(cfg.registry_mirrors),
                               "AllowNondistributableArtifactsCIDRs": [],
                               "AllowNondistributableArtifactsHostnames": []},
            "GenericResources": [], "HttpProxy": os.environ.get("HTTP_PROXY", ""),
            "HttpsProxy": os.environ.get("HTTPS_PROXY", ""), "NoProxy": os.environ.get("NO_PROXY", ""),
            "Name": platform.node(), "Labels": [], "ExperimentalBuild": False, "ServerVersion": VERSION,
            "Runtimes": {name: {"path": path} for name, path in cfg.runtimes.items()},
            "DefaultRuntime": cfg.default_runtime, "Swarm": {"NodeID": "", "NodeAddr": "",
                                                             "LocalNodeState": "inactive", "ControlAvailable": False,
                                                             "Error": "", "RemoteManagers": []},
            "LiveRestoreEnabled": cfg.live_restore, "Isolation": "", "InitBinary": "docker-init",
            "ContainerdCommit": {"ID": "", "Expected": ""}, "RuncCommit": {"ID": "", "Expected": ""},
            "InitCommit": {"ID": "", "Expected": ""}, "SecurityOptions": ["name=seccomp,profile=default"],
            "Warnings": [],
        })

    @app.route("GET", "/events")
    async def events(req):
        from ..containers.logs import parse_api_time
        try:
            since = parse_api_time(req.q("since"))
            until = parse_api_time(req.q("until"))
        except ValueError as e:
            raise ApiError(400, str(e)) from None
        flt = Filter(parse_filters(req))
        q = daemon.events.subscribe()
        stream = await req.stream(200, "application/json")
        try:
            if since is not None:
                for ev in daemon.events.since(since, until):
                    if flt.match(ev):
                        await stream.write(json.dumps(ev).encode() + b"\n")
            while True:
                timeout = None
                if until is not None:
                    timeout = max(0.0, until / 1e9 - time.time())
                try:
                    ev = await asyncio.wait_for(q.get(), timeout)
                except asyncio.TimeoutError:
                    break
                if until is not None and ev["timeNano"] > until:
                    break
                if flt.match(ev):
                    await stream.write(json.dumps(ev).encode() + b"\n")
        except ClientGone:
            pass
        finally:
            daemon.events.unsubscribe(q)
        await stream.close()
        return stream

    @app.route("POST", "/build/prune")
    async def build_prune(req):
        return json_response({"CachesDeleted": [], "SpaceReclaimed": 0})

    @app.route("GET", "/system/df")
    async def df(req):
        loop = asyncio.get_running_loop()
        return json_response(await loop.run_in_executor(None, daemon.disk_usage))
