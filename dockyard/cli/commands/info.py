"""dockyard info / system info: the client and the daemon, in docker's layout (or --format)."""
from __future__ import annotations

import sys

from ..api import CLIENT_VERSION
from ..errors import CLIError
from ..units import bytes_size

USAGE = "[OPTIONS]"
SHORT = "Display system-wide information"
ARGS = (0, 0)


def flags(fs):
    fs.string("format", "f", help="Format output using a custom template")


def client_info(app) -> dict:
    return {"Debug": bool(getattr(app.gopts, "debug", False)), "Version": CLIENT_VERSION, "Context": "default",
            "Plugins": [], "Warnings": None}


def server_lines(i: dict) -> list[str]:
    L = [f" Containers: {i.get('Containers', 0)}", f"  Running: {i.get('ContainersRunning', 0)}",
         f"  Paused: {i.get('ContainersPaused', 0)}", f"  Stopped: {i.get('ContainersStopped', 0)}",
         f" Images: {i.get('Images', 0)}", f" Server Version: {i.get('ServerVersion', '')}",
         f" Storage Driver: {i.get('Driver', '')}"]
    for kv in i.get("DriverStatus") or []:
        if len(kv) == 2:
            L.append(f"  {kv[0]}: {kv[1]}")
    for kv in i.get("SystemStatus") or []:
        if len(kv) == 2:
            L.append(f" {kv[0]}: {kv[1]}")
    L += [f" Logging Driver: {i.get('LoggingDriver', '')}", f" Cgroup Driver: {i.get('CgroupDriver', '')}"]
    if i.get("CgroupVersion"):
        L.append(f" Cgroup Version: {i['CgroupVersion']}")
    plugins = i.get("Plugins") or {}
    L.append(" Plugins:")
    L.append(f"  Volume: {' '.join(plugins.get('Volume') or [])}")
    L.append(f"  Network: {' '.join(plugins.get('Network') or [])}")
    if plugins.get("Authorization"):
        L.append(f"  Authorization: {' '.join(plugins['Authorization'])}")
    L.append(f"  Log: {' '.join(plugins.get('Log') or [])}")
    swarm = (i.get("Swarm") or {}).get("LocalNodeState") or "inactive"
    L.append(f" Swarm: {swarm}")
    runtimes = sorted((i.get("Runtimes") or {}).keys())
    if runtimes:
        L.append(f" Runtimes: {' '.join(runtimes)}")
        L.append(f" Default Runtime: {i.get('DefaultRuntime', '')}")
    if i.get("OSType") == "linux":
        L.append(f" Init Binary: {i.get('InitBinary', '')}")
        for label, key in (("containerd version", "ContainerdCommit"), ("runc version", "RuncCommit"),
                           ("init version", "InitCommit")):
            L.append(f" {label}: {(i.get(key) or {}).get('ID', '')}")
    sec = i.get("SecurityOptions") or []
    if sec:
        L.append(" Security Options:")
        for opt in sec:
            fields = dict(kv.split("=", 1) for kv in opt.split(",") if "=" in kv)
            L.append(f"  {fields.get('name', opt)}")
            for k, v in fields.items():
                if k != "name":
                    L.append(f"   {k[:1].upper() + k[1:].lower()}: {v}")
    L += [f" Kernel Version: {i.get('KernelVersion', '')}", f" Operating System: {i.get('OperatingSystem', '')}",
          f" OSType: {i.get('OSType', '')}", f" Architecture: {i.get('Architecture', '')}",
          f" CPUs: {i.get('NCPU', 0)}", f" Total Memory: {bytes_size(i.get('MemTotal') or 0)}",
          f" Name: {i.get('Name', '')}", f" ID: {i.get('ID', '')}",
          f" Docker Root Dir: {i.get('DockerRootDir', '')}", f" Debug Mode: {_b(i.get('Debug'))}"]
    if i.get("Debug"):
        L += [f"  File Descriptors: {i.get('NFd', 0)}", f"  Goroutines: {i.get('NGoroutines', 0)}",
              f"  System Time: {i.get('SystemTime', '')}", f"  EventsListeners: {i.get('NEventsListener', 0)}"]
    for label, key in (("HTTP Proxy", "HttpProxy"), ("HTTPS Proxy", "HttpsProxy"), ("No Proxy", "NoProxy")):
        if i.get(key):
            L.append(f" {label}: {i[key]}")
    if i.get("Labels"):
        L.append(" Labels:")
        L += [f"  {x}" for x in i["Labels"]]
    L.append(f" Experimental: {_b(i.get('ExperimentalBuild'))}")
    reg = i.get("RegistryConfig") or {}
    cidrs = reg.get("InsecureRegistryCIDRs") or []
    insecure = [k for k, v in (reg.get("IndexConfigs") or {}).items() if not v.get("Secure")]
    if cidrs or insecure:
        L.append(" Insecure Registries:")
        L += [f"  {x}" for x in insecure + cidrs]
    if reg.get("Mirrors"):
        L.append(" Registry Mirrors:")
        L += [f"  {m}" for m in reg["Mirrors"]]
    L.append(f" Live Restore Enabled: {_b(i.get('LiveRestoreEnabled'))}")
    return L


def _b(v) -> str:
    return "true" if v else "false"


def main(app, opts, args):
    cinfo = client_info(app)
    if opts.format:
        from .. import formatter
        from ..template import TemplateError
        try:
            info = app.api.get("/info") or {}
            server_errors = None
        except CLIError as e:
            info, server_errors = {}, [e.message]
        data = dict(info)
        data["ClientInfo"] = cinfo
        data["ClientErrors"] = None
        data["ServerErrors"] = server_errors
        tmpl = formatter.parse(opts.format, "template parsing error")
        try:
            sys.stdout.write(tmpl.execute(data) + "\n")
        except TemplateError as e:
            raise CLIError(f"template parsing error: {e}") from None
        return 0
    out = ["Client:", f" Version:    {cinfo['Version']}", f" Context:    {cinfo['Context']}",
           f" Debug Mode: {_b(cinfo['Debug'])}", "", "Server:"]
    try:
        info = app.api.get("/info") or {}
    except CLIError as e:
        sys.stdout.write("\n".join(out) + "\n")
        raise CLIError(f"ERROR: {e.message}\nerrors pretty printing info") from None
    out += server_lines(info)
    sys.stdout.write("\n".join(out) + "\n\n")
    for w in info.get("Warnings") or []:
        app.err(w)
    return 0
