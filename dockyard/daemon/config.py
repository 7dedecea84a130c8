"""dockyardd's configuration: docker's daemon flags and a daemon.json-style --config-file.

Flags win over the file for the same setting (dockerd refuses conflicts; we say which one won
in the log). Several daemons can run side by side with their own -H, --data-root, --exec-root
and --pidfile.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from dataclasses import dataclass, field

DEFAULT_SOCKET = "unix:///run/dockyard.sock"


def _venv_bin(name: str) -> str:
    here = os.path.join(os.path.dirname(sys.executable), name)
    return here if os.path.exists(here) else (shutil.which(name) or name)


@dataclass
class Config:
    hosts: list[str] = field(default_factory=lambda: [DEFAULT_SOCKET])
    data_root: str = "/var/lib/dockyard"
    exec_root: str = "/run/dockyard"
    pidfile: str = ""
    log_level: str = "info"
    default_runtime: str = "dockyard"
    runtimes: dict[str, str] = field(default_factory=dict)  # name -> path
    insecure_registries: list[str] = field(default_factory=list)
    registry_mirrors: list[str] = field(default_factory=list)
    cgroup_parent: str = "dockyard"
    bridge: str = ""
    bip: str = ""
    group: str = "dockyard"
    tls: bool = False
    tlsverify: bool = False
    tlscacert: str = ""
    tlscert: str = ""
    tlskey: str = ""
    insecure_tcp: bool = False
    storage_driver: str = "auto"
    log_driver: str = "json-file"
    log_opts: dict[str, str] = field(default_factory=dict)
    userns_remap: str = ""
    push_compression: str = ""  # zstd (default) | gzip (for clients such as dockerd 20.10) | none
    live_restore: bool = True
    remap: object = None  # security.remap.IdMap when userns_remap is set (resolved by load)

    def runtime_path(self, name: str | None = None) -> str:
        name = name or self.default_runtime
        if name in self.runtimes:
            return self.runtimes[name]
        raise KeyError(name)

    @property
    def pidfile_path(self) -> str:
        return self.pidfile or os.path.join(self.exec_root, "dockyardd.pid")


class ConfigError(ValueError):
    pass


_FILE_KEYS = {
    "hosts": "hosts", "data-root": "data_root", "exec-root": "exec_root", "pidfile": "pidfile",
    "log-level": "log_level", "default-runtime": "default_runtime", "insecure-registries": "insecure_registries",
    "registry-mirrors": "registry_mirrors", "cgroup-parent": "cgroup_parent", "bridge": "bridge", "bip": "bip",
    "group": "group", "tls": "tls", "tlsverify": "tlsverify", "tlscacert": "tlscacert", "tlscert": "tlscert",
    "tlskey": "tlskey", "storage-driver": "storage_driver", "log-driver": "log_driver", "log-opts": "log_opts",
    "userns-remap": "userns_remap", "live-restore": "live_restore", "insecure-tcp": "insecure_tcp",
    "push-compression": "push_compression",
}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="dockyardd", description="Dockyard daemon: serves the Docker Engine API")
    a = p.add_argument
    a("-H", "--host", action="append", dest="hosts", help="unix:///path or tcp://host:port (repeatable)")
    a("--data-root", dest="data_root")
    a("--exec-root", dest="exec_root")
    a("-p", "--pidfile", dest="pidfile")
    a("--config-file", dest="config_file", default="/etc/dockyard/daemon.json")
    a("-l", "--log-level", dest="log_level", choices=["debug", "info", "warn", "error", "fatal"])
    a("-D", "--debug", action="store_true")
    a("--default-runtime", dest="default_runtime")
    a("--add-runtime", dest="add_runtime", action="append", default=[], help="name=path")
    a("--insecure-registry", dest="insecure_registries", action="append")
    a("--registry-mirror", dest="registry_mirrors", action="append")
    a("--cgroup-parent", dest="cgroup_parent")
    a("-b", "--bridge", dest="bridge")
    a("--bip", dest="bip")
    a("-G", "--group", dest="group")
    a("--tls", action="store_true", default=None)
    a("--tlsverify", action="store_true", default=None)
    a("--tlscacert", dest="tlscacert")
    a("--tlscert", dest="tlscert")
    a("--tlskey", dest="tlskey")
    a("--insecure-tcp", dest="insecure_tcp", action="store_true", default=None,
      help="allow tcp:// hosts without TLS client-certificate verification (dangerous)")
    a("-s", "--storage-driver", dest="storage_driver")
    a("--log-driver", dest="log_driver")
    a("--log-opt", dest="log_opt", action="append", default=[])
    a("--userns-remap", dest="userns_remap")
    a("--version", "-v", action="store_true")
    return p


def load(argv: list[str] | None = None) -> tuple[Config, argparse.Namespace]:
    ns = parser().parse_args(argv)
    cfg = Config()
    path = ns.config_file
    if path and os.path.exists(path):
        try:
            with open(path) as f:
                data = json.load(f)
        except (OSError, ValueError) as e:
            raise ConfigError(f"unable to configure the daemon with file {path}: {e}") from None
        if not isinstance(data, dict):
            raise ConfigError(f"unable to configure the daemon with file {path}: not a JSON object")
        for key, value in data.items():
            if key == "runtimes":
                if not isinstance(value, dict):
                    raise ConfigError(f"{path}: runtimes must be an object")
                for name, rt in value.items():
                    cfg.runtimes[name] = rt["path"] if isinstance(rt, dict) else str(rt)
            elif key == "debug":
                cfg.log_level = "debug" if value else cfg.log_level
            elif key in _FILE_KEYS:
                setattr(cfg, _FILE_KEYS[key], value)
            else:
                raise ConfigError(f"unable to configure the daemon with file {path}: "
                                  f"the following directives don't match any configuration option: {key}")
    for attr in ("hosts", "data_root", "exec_root", "pidfile", "log_level", "default_runtime", "insecure_registries",
                 "registry_mirrors", "cgroup_parent", "bridge", "bip", "group", "tls", "tlsverify", "tlscacert",
                 "tlscert", "tlskey", "insecure_tcp", "storage_driver", "log_driver", "userns_remap"):
        v = getattr(ns, attr, None)
        if v is not None:
            setattr(cfg, attr, v)
    if ns.debug:
        cfg.log_level = "debug"
    for opt in ns.log_opt:
        k, eq, v = opt.partition("=")
        if not eq:
            raise ConfigError(f"invalid --log-opt {opt!r}: use key=value")
        cfg.log_opts[k] = v
    cfg.runtimes.setdefault("dockyard", _venv_bin("dockyard-runtime"))
    if shutil.which("runc"):
        cfg.runtimes.setdefault("runc", shutil.which("runc"))
    for spec in ns.add_runtime:
        name, eq, path = spec.partition("=")
        if not eq or not name or not path:
            raise ConfigError(f"invalid --add-runtime {spec!r}: use name=path")
        cfg.runtimes[name] = path
    if cfg.default_runtime not in cfg.runtimes:
        raise ConfigError(f"default runtime {cfg.default_runtime!r} is not configured")
    for h in cfg.hosts:
        if h.startswith("tcp://") and not (cfg.tlsverify and cfg.tlscacert) and not cfg.insecure_tcp:
            raise ConfigError(f"refusing to listen on {h} without TLS client-certificate verification "
                              "(--tlsverify --tlscacert --tlscert --tlskey); pass --insecure-tcp to allow it anyway")
        if not (h.startswith("tcp://") or h.startswith("unix://") or h.startswith("fd://")):
            raise ConfigError(f"invalid host {h!r}: use unix:///path or tcp://host:port")
    if cfg.userns_remap:
        # containers run as a subordinate id range; their layers and volumes live in their own
        # <data-root>/<uid>.<gid>, owned by that range (dockerd's layout)
        from ..security.remap import RemapError, resolve
        try:
            cfg.remap = resolve(cfg.userns_remap)
        except (RemapError, OSError) as e:
            raise ConfigError(str(e)) from None
        cfg.data_root = os.path.join(cfg.data_root, cfg.remap.dir_name)
    return cfg, ns
