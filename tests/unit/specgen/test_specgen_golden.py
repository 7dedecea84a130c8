"""Our config.json against what dockerd 20.10 wrote for the same `docker run` (golden cases).

Differences by construction are normalised before comparing, and nothing else:
* linux.cgroupsPath: dockerd's "/docker/<id>" (or "/<parent>/<id>") is ours "dockyard/<id>" ("<parent>/<id>");
* the network namespace of --network host: dockerd joins a bind of the host's; we create none;
* dockerd's libnetwork prestart hook (ours has no hooks);
* mounts of equal depth after the defaults: dockerd orders them by Go map iteration (random);
* linux.devices of --privileged: the host's nodes, listed live (the golden has them from the capture host).
"""
from __future__ import annotations

import json
import os
import re

import pytest

from specgen_helpers import REFERENCE_CONFIG, apply_delta, make_rootfs
from dockyard.daemon.containers.specgen import ImageDefaults, Peer, SpecInputs, generate
from dockyard.daemon.containers.specgen_devices import host_devices
from dockyard.daemon.containers.specgen_errors import SpecGenError

with open(os.path.join(os.path.dirname(__file__), "golden", "dockerd-20.10-cases.json")) as _f:
    CASES = json.load(_f)["cases"]

# Cases dockerd refused (at create, or only when runc started the container): our message. Where it
# differs from dockerd's, the reason is given.
ERRORS = {
    "err_bindmissing": 'invalid mount config for type "bind": bind source path does not exist: /nope',
    "err_cap": 'invalid CapAdd: unknown capability: "CAP_NOPE"',
    "err_dupmount": "Duplicate mount point: /data",
    "err_dup_tmpfs_bind": "Duplicate mount point: /data",
    "err_dup_bind_mount": "Duplicate mount point: /data",
    # dockerd 20.10 accepts this one and silently drops the bind (the tmpfs wins): a bug
    "err_dup_tmpfs_mount": "Duplicate mount point: /data",
    "err_relative": 'create relative/path: "relative/path" includes invalid characters for a local volume '
                    'name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host '
                    'directory, use absolute path',
    "err_mountrel": 'invalid mount config for type "bind": invalid mount path: \'data\' mount path must be absolute',
    "err_mount_dest_root": "invalid volume specification: '{host}/a:/': invalid mount config for type \"bind\": "
                           "invalid specification: destination can't be '/'",
    "err_bind_mode": "invalid mode: bogus",
    "err_tmpfs_src": 'invalid mount config for type "tmpfs": field Source must not be specified',
    "err_tmpfs_rel": "invalid mount path: 'relative' mount path must be absolute",
    "err_devnotexist": 'error gathering device information while adding custom device "/dev/nope": '
                       'no such file or directory',
    "err_pidcont": "No such container: nope",
    "err_memswap": "Minimum memoryswap limit should be larger than memory limit, see usage",
    "err_mem_small": "Minimum memory limit allowed is 6MB",
    "err_cpus": "Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available",
    "err_oomscore": "Invalid value 2000, range for oom score adj is [-1000, 1000]",
    "err_workdir_rel": "the working directory 'rel' is invalid, it needs to be an absolute path",
    "err_nosuchuser": "unable to find user nosuch: no matching entries in passwd file",
    "err_netcont_hostname": "conflicting options: hostname and the network mode",
    "err_netcont_dns": "conflicting options: dns and the network mode",
    "uts_host_hostname": "conflicting options: hostname and the UTS mode",
    "err_swap_nomem": "You should always set the Memory limit when using Memoryswap limit, see usage",
    "err_cpuset": "Requested CPUs are not available - requested 0-7, available: 0-1",
    "err_nanocpus_quota": "Conflicting options: Nano CPUs and CPU Quota cannot both be set",
    "err_cpuperiod": "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)",
    "err_memres_gt": "Minimum memory limit can not be less than memory reservation limit, see usage",
    "img2_epempty": "No command specified",
    # dockerd passes these to runc, which refuses them at start; these are runc's words
    "err_sysctl_nethost": 'sysctl "net.ipv4.ip_forward" not allowed in host network namespace',
    "err_sysctl_ipchost": 'sysctl "kernel.shm_rmid_forced" is not allowed in the hosts ipc namespace',
    # dockerd hands -1 to runc ("shares: invalid argument")
    "err_cpushares_neg": "Invalid value -1 for CPU shares: it must not be negative",
}
# dockerd refused these, we accept them (and say why)
ACCEPTED = {
    # --group-add 0 --group-add root: libcontainer's lookup trips over the duplicate gid; we deduplicate
    "gpus": [0, 0, 1, 2, 3, 4, 6, 10, 11, 26, 27, 0],
}


def _peer_lookup(golden):
    p = golden["peer"]

    def lookup(ref):
        if ref != p["name"]:
            return None
        return Peer(p["id"], p["pid"], hostname=p["id"][:12], files_dir=f"/tmp/sgo/data/containers/{p['id']}",
                    ipc_mode=p["ipc_mode"], shm_path=f"/tmp/sgo/data/containers/{p['id']}/mounts/shm")
    return lookup


def _normalize(cfg: dict) -> dict:
    lin = cfg["linux"]
    path = lin["cgroupsPath"].lstrip("/")
    lin["cgroupsPath"] = re.sub(r"^docker/", "dockyard/", path)
    lin["namespaces"] = [n for n in lin["namespaces"] if not n.get("path", "").endswith("/netns/default")]
    cfg["hooks"] = {}
    return cfg


_DEFAULTS = {("/proc", "proc"), ("/dev", "tmpfs"), ("/dev/pts", "devpts"), ("/sys", "sysfs"),
             ("/sys/fs/cgroup", "cgroup"), ("/dev/mqueue", "mqueue"), ("/dev/shm", "shm")}


def _mount_key(cfg: dict):
    """Docker's default mounts (and --init's) in order, then the container's own by (depth, destination)."""
    ms = cfg["mounts"]
    n = 0
    while n < len(ms) and ((ms[n]["destination"], ms[n]["source"]) in _DEFAULTS
                           or ms[n]["destination"] == "/sbin/docker-init"):
        n += 1
    return ms[:n], sorted(ms[n:], key=lambda m: (os.path.normpath(m["destination"]).count("/"), m["destination"]))


def _setup(golden, tmp_path, name):
    """(request, SpecInputs, expected config or None, expected files) for one case."""
    case = CASES[name]
    hostdir = tmp_path / "host"
    (hostdir / "a").mkdir(parents=True)
    (hostdir / "b").mkdir()
    (hostdir / "f.txt").write_text("hi\n")
    (tmp_path / "seccomp.json").write_text("{}")
    sub = lambda doc: json.loads(json.dumps(doc).replace("/tmp/sgo/host", str(hostdir)))  # noqa: E731
    request = sub(apply_delta(golden["base"]["request"], case["request"]))
    expected = sub(apply_delta(golden["base"]["config"], case["config"])) if "config" in case else None
    files = apply_delta(golden["base"]["files"], case.get("files", {}))
    image = golden["images"]["img2" if request["Image"] == "img2" else "busybox"]
    rootfs = make_rootfs(str(tmp_path / "rootfs"), golden["etc"]["passwd"], golden["etc"]["group"])
    h = golden["host"]
    (tmp_path / "resolv.conf").write_text(h["resolv.conf"])
    (tmp_path / "hosts").write_text(h["hosts"])
    (tmp_path / "mountinfo").write_text(f"22 1 254:1 / / rw,relatime - ext4 /dev/vda1 rw\n"
                                        f"99 22 254:1 {hostdir} {hostdir} rw shared:7 - ext4 /dev/vda1 rw\n")
    from dockyard.daemon.containers.specgen_host import CAP_BY_NUMBER, HostInfo
    host = HostInfo(capabilities=CAP_BY_NUMBER[:38], ncpu=h["ncpu"], cpus=h["cpus"], mems=h["mems"],
                    hostname=h["hostname"], resolv_conf=str(tmp_path / "resolv.conf"), hosts=str(tmp_path / "hosts"),
                    blkio_weight=h["blkio_weight"], blkio_weight_device=False, init_path=h["init"],
                    mountinfo=str(tmp_path / "mountinfo"))
    cid = golden["base"]["id"]
    volume_paths = {}
    if expected:
        expected["root"]["path"] = rootfs
        volume_paths = {m["destination"]: m["source"] for m in expected["mounts"]
                        if m["source"].startswith("/tmp/sgo/data/volumes/")}
        if expected["linux"].get("devices") == "HOST_DEVICES":
            expected["linux"]["devices"] = host_devices("/dev")
    calls = []

    def seccomp_hook(profile, spec):
        calls.append(profile)
        return None

    inputs = SpecInputs(cid, rootfs, f"/tmp/sgo/data/containers/{cid}", image=ImageDefaults(
        env=image.get("Env"), entrypoint=image.get("Entrypoint"), cmd=image.get("Cmd"),
        working_dir=image.get("WorkingDir", ""), user=image.get("User", ""), volumes=list(image.get("Volumes", {}))),
        volume_paths=volume_paths, lookup=_peer_lookup(golden), seccomp=seccomp_hook, host=host)
    return request, inputs, expected, files, hostdir


@pytest.mark.parametrize("name", sorted(n for n in CASES if "config" in CASES[n] and n not in ERRORS))
def test_config_matches_dockerd(golden, tmp_path, name):
    request, inputs, expected, files, _ = _setup(golden, tmp_path, name)
    got = generate(request, inputs)
    want = _normalize(expected)
    cfg = got.config
    depths = [os.path.normpath(m["destination"]).count("/") for m in cfg["mounts"]][len(_mount_key(cfg)[0]):]
    assert depths == sorted(depths), "container mounts must be sorted by depth"
    assert _mount_key(cfg) == _mount_key(want)
    cfg, want = dict(cfg), dict(want)
    cfg.pop("mounts"), want.pop("mounts")
    assert cfg == want
    if files and name not in ("netcont",):  # joining a network uses the peer's files
        assert got.files == files


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors_match_dockerd(golden, tmp_path, name):
    request, inputs, _, _, hostdir = _setup(golden, tmp_path, name)
    with pytest.raises(SpecGenError) as e:
        generate(request, inputs)
    assert str(e.value) == ERRORS[name].replace("{host}", str(hostdir))


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_accepted_where_dockerd_refuses(golden, tmp_path, name):
    request, inputs, _, _, _ = _setup(golden, tmp_path, name)
    assert generate(request, inputs).config["process"]["user"]["additionalGids"] == ACCEPTED[name]


def test_every_golden_case_is_checked():
    checked = {n for n in CASES if "config" in CASES[n]} | set(ERRORS) | set(ACCEPTED)
    assert sorted(set(CASES) - checked) == []


def test_reference_busybox_sleep_config(golden, tmp_path):
    """/work/shared/reference: dockerd 20.10.24's config.json for `docker run busybox sleep 30`."""
    if not os.path.exists(REFERENCE_CONFIG):
        pytest.skip(f"reference config not found: {REFERENCE_CONFIG}")
    with open(REFERENCE_CONFIG) as f:
        ref = json.load(f)
    cid = ref["linux"]["cgroupsPath"].rsplit("/", 1)[1]
    files_dir = os.path.dirname(ref["mounts"][-1]["source"])
    rootfs = make_rootfs(str(tmp_path / "rootfs"), golden["etc"]["passwd"], golden["etc"]["group"])
    (tmp_path / "resolv.conf").write_text("nameserver 10.255.255.53\n")
    from dockyard.daemon.containers.specgen_host import HostInfo
    host = HostInfo(ncpu=2, cpus="0-1", hostname="vm", resolv_conf=str(tmp_path / "resolv.conf"))
    calls = []
    got = generate(golden["base"]["request"], SpecInputs(
        cid, rootfs, files_dir,
        image=ImageDefaults(env=["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], cmd=["sh"]),
        seccomp=lambda profile, spec: calls.append(profile) or ref["linux"]["seccomp"], host=host)).config
    assert calls == [None]  # the daemon's default profile was asked for
    ref["root"]["path"] = rootfs
    ref["linux"]["cgroupsPath"] = f"dockyard/{cid}"
    assert got == ref
