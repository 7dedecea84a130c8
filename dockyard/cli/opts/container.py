"""``run``/``create`` flags and the container-create request body built from them.

The body follows the Docker CLI's (same fields, same order), so a daemon sees the same
request from either client.
"""
from __future__ import annotations

import os

from ..flags import FlagSet
from . import env as envopts
from . import mounts, ports, resources


class ConfigError(ValueError):
    """A bad combination of options, found after the flags were parsed (docker exits 125)."""


def _attach(v: str) -> str:
    s = v.lower()
    if s not in ("stdin", "stdout", "stderr"):
        raise ValueError("valid streams are STDIN, STDOUT and STDERR")
    return s


def _dns(v: str) -> str:
    import ipaddress
    try:
        return str(ipaddress.ip_address(v.strip()))
    except ValueError:
        raise ValueError(f"IP address is not correctly formatted: {v}") from None


def _extra_host(v: str) -> str:
    import ipaddress
    sep = "=" if "=" in v else ":"
    name, found, ip = v.partition(sep)
    if not found or not name.strip():
        raise ValueError(f'bad format for add-host: "{v}"')
    if ip == "host-gateway":
        return f"{name}:{ip}"
    addr = ip[1:-1] if ip.startswith("[") and ip.endswith("]") else ip
    try:
        ipaddress.ip_address(addr)
    except ValueError:
        raise ValueError(f'invalid IP address in add-host: "{ip}"') from None
    return f"{name}:{addr}"


_SYSCTL_NAMES = {"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall", "kernel.shmmax",
                 "kernel.shmmni", "kernel.shm_rmid_forced"}


def _sysctl(v: str) -> str:
    name, eq, _ = v.partition("=")
    if not eq or not (name in _SYSCTL_NAMES or name.startswith(("net.", "fs.mqueue."))):
        raise ValueError(f"sysctl '{v}' is not allowed")
    return v


def add_flags(fs: FlagSet, run: bool) -> None:
    """The flags of ``create`` (and ``run`` when ``run``)."""
    a = fs.add
    a("add-host", None, "list", help="Add a custom host-to-IP mapping (host:ip)", conv=_extra_host)
    a("attach", "a", "list", help="Attach to STDIN, STDOUT or STDERR", conv=_attach)
    a("blkio-weight", None, "uint", help="Block IO (relative weight), between 10 and 1000, or 0 to disable")
    a("cap-add", None, "list", help="Add Linux capabilities")
    a("cap-drop", None, "list", help="Drop Linux capabilities")
    a("cgroup-parent", None, "string", help="Optional parent cgroup for the container")
    a("cgroupns", None, "string", help="Cgroup namespace to use (host|private)")
    a("cidfile", None, "string", help="Write the container ID to the file")
    a("cpu-period", None, "int", help="Limit CPU CFS (Completely Fair Scheduler) period")
    a("cpu-quota", None, "int", help="Limit CPU CFS (Completely Fair Scheduler) quota")
    a("cpu-rt-period", None, "int", help="Limit CPU real-time period in microseconds")
    a("cpu-rt-runtime", None, "int", help="Limit CPU real-time runtime in microseconds")
    a("cpu-shares", "c", "int", help="CPU shares (relative weight)")
    a("cpus", None, "nanocpus", help="Number of CPUs")
    a("cpuset-cpus", None, "string", help="CPUs in which to allow execution (0-3, 0,1)")
    a("cpuset-mems", None, "string", help="MEMs in which to allow execution (0-3, 0,1)")
    if run:
        a("detach", "d", "bool", help="Run container in background and print container ID")
        a("detach-keys", None, "string", help="Override the key sequence for detaching a container")
    a("device", None, "list", help="Add a host device to the container")
    a("device-cgroup-rule", None, "list", help="Add a rule to the cgroup allowed devices list")
    a("dns", None, "list", help="Set custom DNS servers", conv=_dns)
    a("dns-option", None, "list", help="Set DNS options")
    a("dns-search", None, "list", help="Set custom DNS search domains")
    a("domainname", None, "string", help="Container NIS domain name")
    a("entrypoint", None, "string", help="Overwrite the default ENTRYPOINT of the image")
    a("env", "e", "list", help="Set environment variables", conv=envopts.validate_env)
    a("env-file", None, "list", help="Read in a file of environment variables")
    a("expose", None, "list", help="Expose a port or a range of ports")
    a("group-add", None, "list", help="Add additional groups to join")
    a("health-cmd", None, "string", help="Command to run to check health")
    a("health-interval", None, "duration", help="Time between running the check (ms|s|m|h) (default 0s)")
    a("health-retries", None, "int", help="Consecutive failures needed to report unhealthy")
    a("health-start-interval", None, "duration", help="Time between running the check during the start period")
    a("health-start-period", None, "duration", help="Start period for the container to initialize")
    a("health-timeout", None, "duration", help="Maximum time to allow one check to run (ms|s|m|h) (default 0s)")
    a("hostname", "h", "string", help="Container host name")
    a("init", None, "bool", help="Run an init inside the container that forwards signals and reaps processes")
    a("interactive", "i", "bool", help="Keep STDIN open even if not attached")
    a("ip", None, "string", help="IPv4 address (e.g., 172.30.100.104)")
    a("ip6", None, "string", help="IPv6 address (e.g., 2001:db8::33)")
    a("ipc", None, "string", help="IPC mode to use")
    a("isolation", None, "string", help="Container isolation technology")
    a("label", "l", "list", help="Set meta data on a container", conv=envopts.validate_label)
    a("label-file", None, "list", help="Read in a line delimited file of labels")
    a("link", None, "list", help="Add link to another container")
    a("log-driver", None, "string", help="Logging driver for the container")
    a("log-opt", None, "list", help="Log driver options")
    a("mac-address", None, "string", help="Container MAC address (e.g., 92:d0:c6:0a:29:33)")
    a("memory", "m", "bytes", help="Memory limit")
    a("memory-reservation", None, "bytes", help="Memory soft limit")
    a("memory-swap", None, "string", help="Swap limit equal to memory plus swap: '-1' to enable unlimited swap",
      metavar="bytes", conv=_swap)
    a("memory-swappiness", None, "int", -1, help="Tune container memory swappiness (0 to 100)")
    a("mount", None, "list", help="Attach a filesystem mount to the container", metavar="mount",
      conv=mounts.parse_mount)
    a("name", None, "string", help="Assign a name to the container")
    a("network", None, "string", "default", help="Connect a container to a network", metavar="network")
    fs.alias("net", "network")
    a("network-alias", None, "list", help="Add network-scoped alias for the container")
    fs.alias("net-alias", "network-alias")
    a("no-healthcheck", None, "bool", help="Disable any container-specified HEALTHCHECK")
    a("oom-kill-disable", None, "bool", help="Disable OOM Killer")
    a("oom-score-adj", None, "int", help="Tune host's OOM preferences (-1000 to 1000)")
    a("pid", None, "string", help="PID namespace to use")
    a("pids-limit", None, "int", help="Tune container pids limit (set -1 for unlimited)")
    a("platform", None, "string", help="Set platform if server is multi-platform capable")
    a("privileged", None, "bool", help="Give extended privileges to this container")
    a("publish", "p", "list", help="Publish a container's port(s) to the host")
    a("publish-all", "P", "bool", help="Publish all exposed ports to random ports")
    a("pull", None, "string", "missing", help='Pull image before running ("always", "missing", "never")')
    a("quiet", "q", "bool", help="Suppress the pull output")
    a("read-only", None, "bool", help="Mount the container's root filesystem as read only")
    a("restart", None, "string", "no", help="Restart policy to apply when a container exits")
    a("rm", None, "bool", help="Automatically remove the container and its associated anonymous volumes when it exits")
    a("runtime", None, "string", help="Runtime to use for this container")
    a("security-opt", None, "list", help="Security Options")
    a("shm-size", None, "bytes", help="Size of /dev/shm")
    if run:
        a("sig-proxy", None, "bool", True, help="Proxy received signals to the process")
    a("stop-signal", None, "string", help="Signal to stop the container")
    a("stop-timeout", None, "int", help="Timeout (in seconds) to stop a container")
    a("storage-opt", None, "list", help="Storage driver options for the container")
    a("sysctl", None, "list", help="Sysctl options", metavar="map", conv=_sysctl)
    a("tmpfs", None, "list", help="Mount a tmpfs directory")
    a("tty", "t", "bool", help="Allocate a pseudo-TTY")
    a("ulimit", None, "list", help="Ulimit options", metavar="ulimit", conv=resources.parse_ulimit)
    a("user", "u", "string", help="Username or UID (format: <name|uid>[:<group|gid>])")
    a("userns", None, "string", help="User namespace to use")
    a("uts", None, "string", help="UTS namespace to use")
    a("volume", "v", "list", help="Bind mount a volume")
    a("volume-driver", None, "string", help="Optional volume driver for the container")
    a("volumes-from", None, "list", help="Mount volumes from the specified container(s)")
    a("workdir", "w", "string", help="Working directory inside the container")


def _swap(v: str):
    try:
        return resources.parse_memory_swap(v)
    except ValueError:
        raise ValueError(f"invalid size: '{v}'") from None


def _ns(seconds: float) -> int:
    return int(round(seconds * 1e9))


def _seccomp_opts(opts: list[str]) -> list[str]:
    import json
    out = []
    for opt in opts:
        k, eq, v = opt.partition("=")
        if not eq and k != "no-new-privileges":
            k, eq, v = opt.partition(":")
        if (not eq or v == "") and k != "no-new-privileges":
            raise ConfigError(f'Invalid --security-opt: "{opt}"')
        if k == "seccomp" and v not in ("builtin", "unconfined"):
            try:
                with open(v, "rb") as f:
                    data = f.read()
            except OSError as e:
                raise ConfigError(f"opening seccomp profile ({v}) failed: open {v}: "
                                  f"{(e.strerror or str(e)).lower()}") from None
            try:
                compact = json.dumps(json.loads(data), separators=(",", ":"))
            except ValueError as e:
                raise ConfigError(f"compacting json for seccomp profile ({v}) failed: {e}") from None
            opt = "seccomp=" + compact
        out.append(opt)
    return out


def _health(o) -> dict | None:
    have = bool(o.health_cmd) or o.health_interval != 0 or o.health_timeout != 0 or o.health_start_period != 0 \
        or o.health_retries != 0 or o.health_start_interval != 0
    if o.no_healthcheck:
        if have:
            raise ConfigError("--no-healthcheck conflicts with --health-* options")
        return {"Test": ["NONE"]}
    if not have:
        return None
    for name, v in (("interval", o.health_interval), ("timeout", o.health_timeout),
                    ("retries", o.health_retries), ("start-period", o.health_start_period),
                    ("start-interval", o.health_start_interval)):
        if v < 0:
            raise ConfigError(f"--health-{name} cannot be negative")
    h: dict = {}
    if o.health_cmd:
        h["Test"] = ["CMD-SHELL", o.health_cmd]
    for key, v in (("Interval", o.health_interval), ("Timeout", o.health_timeout),
                   ("StartPeriod", o.health_start_period), ("StartInterval", o.health_start_interval)):
        if v:
            h[key] = _ns(v)
    if o.health_retries:
        h["Retries"] = o.health_retries
    return h


def _endpoint(ip: str = "", ip6: str = "", aliases=None) -> dict:
    ipam = None
    if ip or ip6:
        ipam = {}
        if ip:
            ipam["IPv4Address"] = ip
        if ip6:
            ipam["IPv6Address"] = ip6
    return {"IPAMConfig": ipam, "Links": None, "Aliases": aliases or None, "MacAddress": "", "DriverOpts": None,
            "GwPriority": 0, "NetworkID": "", "EndpointID": "", "Gateway": "", "IPAddress": "", "IPPrefixLen": 0,
            "IPv6Gateway": "", "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0, "DNSNames": None}


def build(o, image: str, args: list[str], environ=os.environ, console_size=(0, 0)) -> dict:
    """The create body (Config + HostConfig + NetworkingConfig) for these options."""
    try:
        return _build(o, image, args, environ, console_size)
    except ConfigError:
        raise
    except ValueError as e:
        raise ConfigError(str(e)) from None


def _build(o, image: str, args: list[str], environ, console_size) -> dict:
    attach = set(o.attach)
    attach_stdin = "stdin" in attach or o.interactive
    attach_stdout = "stdout" in attach or not o.attach
    attach_stderr = "stderr" in attach or not o.attach

    exposed, bindings = ports.parse_publish(o.publish)
    ports.parse_expose(o.expose, exposed)

    binds, volumes = mounts.volumes_and_binds(o.volume)
    for d in o.device:
        mounts.validate_path(d, mounts.valid_device_mode)
    devices = [mounts.parse_device(d) for d in o.device]

    try:
        env = envopts.read_kv(o.env_file, o.env, environ)
        labels = envopts.kv_map(envopts.read_kv(o.label_file, o.label, environ, env=False))
    except ValueError:
        raise

    if o.entrypoint:
        entrypoint = [o.entrypoint]
    elif o.is_set("entrypoint"):
        entrypoint = [""]
    else:
        entrypoint = None

    restart = resources.parse_restart(o.restart)
    if o.rm and restart["Name"] not in ("", "no"):
        raise ConfigError("conflicting options: cannot specify both --restart and --rm")
    health = _health(o)
    security = _seccomp_opts(o.security_opt) if o.security_opt else None
    cap_add, cap_drop = resources.effective_caps(o.cap_add, o.cap_drop)

    if o.pull not in ("always", "missing", "never"):
        raise ConfigError(f"invalid pull option: '{o.pull}': must be one of \"always\", \"missing\" or \"never\"")

    net = o.network or "default"
    if o.network_alias and net in ("default", "bridge", "host", "none") or (o.network_alias and net.startswith("container:")):
        raise ConfigError("network-scoped aliases are only supported for user-defined networks")

    log_config = {}
    for lo in o.log_opt:
        k, _, v = lo.partition("=")
        log_config[k] = v

    body: dict = {
        "Hostname": o.hostname, "Domainname": o.domainname, "User": o.user,
        "AttachStdin": attach_stdin, "AttachStdout": attach_stdout, "AttachStderr": attach_stderr,
    }
    if exposed:
        body["ExposedPorts"] = exposed
    body["Tty"] = o.tty
    body["OpenStdin"] = o.interactive
    body["StdinOnce"] = o.interactive and attach_stdin
    body["Env"] = env or None
    body["Cmd"] = list(args) or None
    if health is not None:
        body["Healthcheck"] = health
    body["Image"] = image
    body["Volumes"] = volumes
    body["WorkingDir"] = o.workdir
    body["Entrypoint"] = entrypoint
    if o.mac_address:
        body["MacAddress"] = o.mac_address
    body["OnBuild"] = None
    body["Labels"] = labels
    if o.stop_signal:
        body["StopSignal"] = o.stop_signal
    if o.is_set("stop-timeout"):
        body["StopTimeout"] = o.stop_timeout

    hc: dict = {
        "Binds": binds or None, "ContainerIDFile": o.cidfile,
        "LogConfig": {"Type": o.log_driver, "Config": log_config},
        "NetworkMode": net, "PortBindings": bindings, "RestartPolicy": restart, "AutoRemove": o.rm,
        "VolumeDriver": o.volume_driver, "VolumesFrom": o.volumes_from or None,
        "ConsoleSize": list(console_size), "CapAdd": cap_add, "CapDrop": cap_drop, "CgroupnsMode": o.cgroupns,
        "Dns": o.dns, "DnsOptions": o.dns_option, "DnsSearch": o.dns_search, "ExtraHosts": o.add_host or None,
        "GroupAdd": o.group_add or None, "IpcMode": o.ipc, "Cgroup": "", "Links": o.link or None,
        "OomScoreAdj": o.oom_score_adj, "PidMode": o.pid, "Privileged": o.privileged,
        "PublishAllPorts": o.publish_all, "ReadonlyRootfs": o.read_only, "SecurityOpt": security,
    }
    if o.storage_opt:
        hc["StorageOpt"] = envopts.kv_map(o.storage_opt)
    if o.tmpfs:
        hc["Tmpfs"] = mounts.parse_tmpfs(o.tmpfs)
    hc.update({"UTSMode": o.uts, "UsernsMode": o.userns, "ShmSize": o.shm_size})
    if o.sysctl:
        hc["Sysctls"] = envopts.kv_map(o.sysctl)
    if o.runtime:
        hc["Runtime"] = o.runtime
    hc.update({
        "Isolation": o.isolation, "CpuShares": o.cpu_shares, "Memory": o.memory, "NanoCpus": o.cpus,
        "CgroupParent": o.cgroup_parent, "BlkioWeight": o.blkio_weight, "BlkioWeightDevice": [],
        "BlkioDeviceReadBps": [], "BlkioDeviceWriteBps": [], "BlkioDeviceReadIOps": [], "BlkioDeviceWriteIOps": [],
        "CpuPeriod": o.cpu_period, "CpuQuota": o.cpu_quota, "CpuRealtimePeriod": o.cpu_rt_period,
        "CpuRealtimeRuntime": o.cpu_rt_runtime, "CpusetCpus": o.cpuset_cpus, "CpusetMems": o.cpuset_mems,
        "Devices": devices, "DeviceCgroupRules": o.device_cgroup_rule or None, "DeviceRequests": None,
        "MemoryReservation": o.memory_reservation, "MemorySwap": o.memory_swap or 0,
        "MemorySwappiness": o.memory_swappiness, "OomKillDisable": o.oom_kill_disable,
        "PidsLimit": o.pids_limit, "Ulimits": o.ulimit, "CpuCount": 0, "CpuPercent": 0,
        "IOMaximumIOps": 0, "IOMaximumBandwidth": 0,
    })
    if o.mount:
        hc["Mounts"] = o.mount
    hc["MaskedPaths"] = None
    hc["ReadonlyPaths"] = None
    if o.init:
        hc["Init"] = True
    body["HostConfig"] = hc
    if net == "default" or o.ip or o.ip6 or o.network_alias:
        endpoints = {net: _endpoint(o.ip, o.ip6, o.network_alias)}
    else:  # docker leaves a single network without options to the daemon
        endpoints = {}
    body["NetworkingConfig"] = {"EndpointsConfig": endpoints}
    return body
