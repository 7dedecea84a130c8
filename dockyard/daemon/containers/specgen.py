"""Docker's container create request + the image's run defaults -> an OCI runtime config (config.json).

``generate(body, inputs)`` returns a ``GeneratedSpec``: the config (runtime-spec 1.0.2; runs under
dockyard-runtime and runc), the contents of the container's /etc/hostname, /etc/hosts and
/etc/resolv.conf, and what the daemon must do before start (create ``-v`` source directories, mount a
shareable /dev/shm, create the working directory). It creates nothing itself and raises
``SpecGenError`` — with dockerd's message where dockerd has one — for bad input.

For ``docker run busybox sleep 30`` the config equals, field by field, what dockerd 20.10 writes
(tests/unit/specgen compares them), except by construction: ``linux.cgroupsPath`` is
``<cgroup-parent>/<id>`` relative (the runtime nests it under its own cgroup; dockerd says
``/docker/<id>``), and ``linux.seccomp`` comes from the daemon's hook.

Not in the config, and so left to the daemon: the stop signal and timeout (``GeneratedSpec.stop_signal``),
keeping stdin open (``OpenStdin``), labels, restart policy, health checks, logging, and networking
proper (for now a private container gets an empty network namespace).
"""
from __future__ import annotations

from . import defaults as D
from .specgen_devices import devices_from_mapping, host_devices, parse_cgroup_rule
from .specgen_errors import SpecGenError
from .specgen_etc import hostname_file, hosts_file, read_host_file, resolv_conf
from .specgen_host import HostInfo
from .specgen_mounts import oci_mounts, user_mounts
from .specgen_namespaces import Lookup, Peer, hostname_of, namespaces, resolve_modes, sysctls
from .specgen_process import ImageDefaults, check_env, command, merge_env, parse_signal, process_env, working_dir
from .specgen_request import CreateRequest, Ulimit, parse_request
from .specgen_resources import linux_resources, rlimits
from .specgen_security import (SeccompHook, capabilities_object, capability_set, masked_and_readonly,
                               parse_security_opts, seccomp_profile)
from .userlookup import UserLookupError, resolve_user

__all__ = ["DaemonOptions", "SpecInputs", "GeneratedSpec", "generate", "SpecGenError", "Peer", "HostInfo",
           "ImageDefaults", "Ulimit", "user_mounts"]


class DaemonOptions:
    """dockerd-wide settings that shape every container."""

    def __init__(self, *, cgroup_parent: str = "dockyard", capabilities=D.DEFAULT_CAPABILITIES,
                 default_ulimits: list[Ulimit] | tuple = (), shm_size: int = D.DEFAULT_SHM_SIZE,
                 ipc_mode: str = "private", cgroupns_mode: str = "", init: bool = False,
                 init_path: str | None = None, no_new_privileges: bool = False, dns=(), dns_search=(),
                 dns_options=(), ipv6: bool = False, host_gateway_ip: str = ""):
        self.cgroup_parent, self.capabilities = cgroup_parent, tuple(capabilities)
        self.default_ulimits, self.shm_size, self.ipc_mode = list(default_ulimits), shm_size, ipc_mode
        self.cgroupns_mode, self.init, self.init_path = cgroupns_mode, init, init_path
        self.no_new_privileges = no_new_privileges
        self.dns, self.dns_search, self.dns_options = list(dns), list(dns_search), list(dns_options)
        self.ipv6, self.host_gateway_ip = ipv6, host_gateway_ip


class SpecInputs:
    """Everything about one container that is not in the request.

    ``rootfs``: where the container's root filesystem is mounted (its /etc/passwd and /etc/group
    are read there); ``files_dir``: the container's dir for hostname/hosts/resolv.conf (and
    ``mounts/shm``); ``volume_paths``: host path of each volume mount, by target (see
    ``specgen_mounts.user_mounts``); ``lookup``: ``container:<ref>`` -> ``Peer``; ``seccomp``: the hook
    that makes ``linux.seccomp``; ``addresses``: the container's IP addresses for /etc/hosts.
    """

    def __init__(self, container_id: str, rootfs: str, files_dir: str, *, name: str = "", image=None,
                 volume_paths: dict[str, str] | None = None, lookup: Lookup | None = None,
                 seccomp: SeccompHook | None = None, host: HostInfo | None = None,
                 options: DaemonOptions | None = None, addresses=()):
        if not container_id or not container_id.isalnum():
            raise SpecGenError(f"invalid container id {container_id!r}")
        self.container_id, self.rootfs, self.files_dir, self.name = container_id, rootfs, files_dir, name
        self.image = ImageDefaults.of(image)
        self.volume_paths = dict(volume_paths or {})
        self.lookup, self.seccomp = lookup, seccomp
        self.host = host if host is not None else HostInfo.probe()
        self.options = options or DaemonOptions()
        self.addresses = list(addresses)


class GeneratedSpec:
    """The result of ``generate``."""

    def __init__(self):
        self.config: dict = {}
        self.files: dict[str, str] = {}         # name in files_dir -> content (written by the daemon)
        self.host_dirs: list[str] = []          # -v sources to create before start
        self.shm: tuple[str, int] | None = None  # shareable /dev/shm: tmpfs (path, size) to mount
        self.warnings: list[str] = []
        self.notes: list[str] = []              # accepted but ignored options (for the log)
        # the merged Config (what inspect shows)
        self.hostname = self.domainname = self.user = ""
        self.entrypoint: list[str] = []
        self.cmd: list[str] = []
        self.env: list[str] = []
        self.working_dir = "/"
        self.stop_signal = "SIGTERM"
        self.volumes: list[str] = []


def _cgroups_path(parent: str, container_id: str) -> str:
    parts = [p for p in parent.split("/") if p not in ("", ".")]
    if ".." in parts or any(ord(c) < 0x20 for c in parent):
        raise SpecGenError(f"invalid cgroup parent {parent!r}")
    return "/".join(parts + [container_id])


def _validate_host_config(req: CreateRequest) -> None:
    h = req.host
    if not -1000 <= h.oom_score_adj <= 1000:
        raise SpecGenError(f"Invalid value {h.oom_score_adj}, range for oom score adj is [-1000, 1000]")
    if h.shm_size < 0:
        raise SpecGenError("SHM size can not be less than 0")
    if h.isolation not in ("", "default"):
        raise SpecGenError(f"Invalid isolation: \"{h.isolation}\" - linux only supports 'default'")
    if h.volumes_from:
        raise SpecGenError("--volumes-from is not supported yet")
    if h.device_requests:
        for r in h.device_requests:
            caps = r.get("Capabilities") if isinstance(r, dict) else None
            drv = r.get("Driver", "") if isinstance(r, dict) else ""
            text = "[" + " ".join("[" + " ".join(map(str, c)) + "]" for c in (caps or []) if isinstance(c, list)) + "]"
            raise SpecGenError(f"could not select device driver \"{drv}\" with capabilities: {text}")


def _devices(req: CreateRequest, host: HostInfo, privileged: bool) -> tuple[list[dict], list[dict]]:
    """(linux.devices, linux.resources.devices)."""
    if privileged:
        return host_devices(host.dev_root), [dict(r) for r in D.PRIVILEGED_DEVICE_RULES]
    devs, rules = [], [dict(r) for r in D.DEFAULT_DEVICE_RULES]
    for d in req.host.devices:
        if not d.path_on_host:
            raise SpecGenError("device mapping without PathOnHost")
        ds, rs = devices_from_mapping(d.path_on_host, d.path_in_container, d.permissions)
        devs += ds
        rules += rs
    rules += [parse_cgroup_rule(r) for r in req.host.device_cgroup_rules]
    return devs, rules


def generate(body, inputs: SpecInputs) -> GeneratedSpec:
    """The container's OCI config and files; raises ``SpecGenError`` on bad input."""
    req = parse_request(body)
    h, host, opts, img = req.host, inputs.host, inputs.options, inputs.image
    out = GeneratedSpec()
    warn = out.warnings.append
    _validate_host_config(req)

    # process
    entry, cmd = command(req, img)
    check_env(req.env or [], "Config.Env")
    config_env = merge_env(req.env, img.env)
    check_env(config_env, "Env")
    cwd = working_dir(req, img)
    stop = req.stop_signal or img.stop_signal or "SIGTERM"
    parse_signal(stop)
    if req.stop_timeout is not None and req.stop_timeout < -1:
        raise SpecGenError(f"invalid stop timeout {req.stop_timeout}")

    modes = resolve_modes(req, inputs.lookup, default_ipc=opts.ipc_mode,
                          default_cgroupns=opts.cgroupns_mode or ("host" if host.cgroup_version == 1 else "private"))
    hostname = hostname_of(req, modes, inputs.container_id, host.hostname)
    domainname = req.domainname if modes.net != "container" else modes.net_peer.domainname

    user_spec = req.user or img.user
    try:
        user = resolve_user(inputs.rootfs, user_spec, h.group_add)
    except UserLookupError as e:
        raise SpecGenError(str(e)) from None

    sec = parse_security_opts(h.security_opt)
    out.notes += sec.notes
    caps = capability_set(opts.capabilities, h.cap_add, h.cap_drop, h.privileged, host.capabilities, warn)
    masked, ro_paths = masked_and_readonly(h.masked_paths, h.readonly_paths, h.privileged)
    devices, device_rules = _devices(req, host, h.privileged)
    resources = {"devices": device_rules}
    resources.update(linux_resources(h, host, warn))
    limits = rlimits(h, opts.default_ulimits)
    sysctl = sysctls(h.sysctls, modes, domainname if modes.uts != "host" else "")

    init = h.init if h.init is not None else opts.init
    init_path = None
    if init:
        init_path = opts.init_path or host.init_path
        if not init_path:
            raise SpecGenError("--init: no init binary found on this host (install tini or catatonit)")
    args = [entry[0]] + entry[1:] + cmd if entry else cmd
    if init_path:
        args = [D.INIT_PATH_IN_CONTAINER, "--"] + args

    # files and mounts
    umounts = user_mounts(req, img.volumes)
    etc_dir = inputs.files_dir
    if modes.net == "container":
        etc_dir = modes.net_peer.files_dir or None
    else:
        out.files = _etc_files(req, modes, hostname, domainname, inputs, host, opts)
    shm_size = h.shm_size or opts.shm_size
    plan = oci_mounts(umounts, volume_paths=inputs.volume_paths, host=host, files_dir=inputs.files_dir,
                      etc_dir=etc_dir, ipc=modes.ipc,
                      ipc_shm_path=modes.ipc_peer.shm_path if modes.ipc_peer else "",
                      shm_size=shm_size, init_path=init_path, readonly=h.readonly_rootfs, privileged=h.privileged)
    if h.port_bindings and modes.net == "host":
        warn("Published ports are discarded when using host network mode")

    process: dict = {"user": {"uid": user.uid, "gid": user.gid, "additionalGids": user.additional_gids},
                     "args": args, "env": process_env(config_env, hostname, req.tty), "cwd": cwd,
                     "capabilities": capabilities_object(caps, user.uid), "oomScoreAdj": h.oom_score_adj}
    if req.tty:
        process["terminal"] = True
        if h.console_size and all(h.console_size):
            process["consoleSize"] = {"height": h.console_size[0], "width": h.console_size[1]}
    if limits:
        process["rlimits"] = limits
    nnp = sec.no_new_privileges if sec.no_new_privileges is not None else opts.no_new_privileges
    if nnp:
        process["noNewPrivileges"] = True

    linux: dict = {}
    if sysctl:
        linux["sysctl"] = sysctl
    linux["resources"] = resources
    linux["cgroupsPath"] = _cgroups_path(h.cgroup_parent or opts.cgroup_parent, inputs.container_id)
    linux["namespaces"] = namespaces(modes)
    if masked:
        linux["maskedPaths"] = masked
    if ro_paths:
        linux["readonlyPaths"] = ro_paths
    if devices:
        linux["devices"] = devices
    if plan.rootfs_propagation:
        linux["rootfsPropagation"] = plan.rootfs_propagation

    config: dict = {"ociVersion": D.OCI_VERSION, "process": process, "root": {"path": inputs.rootfs}}
    if h.readonly_rootfs:
        config["root"]["readonly"] = True
    if modes.uts != "host":
        config["hostname"] = hostname
    config["mounts"] = plan.mounts
    config["hooks"] = {}
    config["linux"] = linux
    seccomp = seccomp_profile(sec, h.privileged, inputs.seccomp, config)
    if seccomp is not None:
        linux["seccomp"] = seccomp

    out.config = config
    out.host_dirs, out.shm = plan.host_dirs, plan.shm
    out.hostname, out.domainname, out.user = hostname, domainname, user_spec
    out.entrypoint, out.cmd, out.env, out.working_dir = entry, cmd, config_env, cwd
    out.stop_signal = stop
    out.volumes = sorted({m.target for m in umounts if m.anonymous})
    return out


def _etc_files(req: CreateRequest, modes, hostname: str, domainname: str, inputs: SpecInputs,
               host: HostInfo, opts: DaemonOptions) -> dict[str, str]:
    h = req.host
    files = {"hostname": hostname_file(hostname)}
    dns, search, dopts = h.dns or opts.dns, h.dns_search or opts.dns_search, h.dns_options or opts.dns_options
    host_resolv = read_host_file(host.resolv_conf)
    if modes.net == "host" and not (dns or search or dopts):
        files["resolv.conf"] = host_resolv
    else:
        files["resolv.conf"] = resolv_conf(host_resolv, dns, search, dopts, ipv6=opts.ipv6)
    if modes.net == "host" and not h.extra_hosts:
        files["hosts"] = read_host_file(host.hosts)
    else:
        addresses = inputs.addresses if modes.net == "private" and not modes.net_none else ()
        files["hosts"] = hosts_file(hostname, domainname, addresses, h.extra_hosts, opts.host_gateway_ip)
    return files
