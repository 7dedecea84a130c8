"""Container options → Engine API shapes (docker's parsers and messages)."""
from __future__ import annotations

import pytest

from dockyard.cli.flags import FlagSet
from dockyard.cli.opts import env as envopts
from dockyard.cli.opts import mounts, ports, resources
from dockyard.cli.opts.container import ConfigError, add_flags, build


@pytest.mark.parametrize("spec,want", [
    ("80", [("80/tcp", {"HostIp": "", "HostPort": ""})]),
    ("8080:80", [("80/tcp", {"HostIp": "", "HostPort": "8080"})]),
    ("127.0.0.1:8080:80/udp", [("80/udp", {"HostIp": "127.0.0.1", "HostPort": "8080"})]),
    ("127.0.0.1::80", [("80/tcp", {"HostIp": "127.0.0.1", "HostPort": ""})]),
    ("[::1]:8080:80", [("80/tcp", {"HostIp": "::1", "HostPort": "8080"})]),
    ("8000-8001:90-91", [("90/tcp", {"HostIp": "", "HostPort": "8000"}), ("91/tcp", {"HostIp": "", "HostPort": "8001"})]),
    ("8000-8010:80", [("80/tcp", {"HostIp": "", "HostPort": "8000-8010"})]),
    ("53/SCTP", [("53/sctp", {"HostIp": "", "HostPort": ""})]),
])
def test_port_specs(spec, want):
    assert ports.parse_port_spec(spec) == want


@pytest.mark.parametrize("spec,msg", [("1.2.3.4:80", "invalid hostPort: 1.2.3.4"), ("70000", "invalid containerPort: 70000"),
                                       ("x.y:1:2", "invalid IP address: x.y"), ("80/icmp", "invalid proto: icmp"),
                                       ("1-2:3-5", "invalid ranges specified for container and host Ports: 3-5 and 1-2")])
def test_port_errors(spec, msg):
    with pytest.raises(ValueError) as e:
        ports.parse_port_spec(spec)
    assert str(e.value) == msg


def test_expose():
    exposed = {}
    ports.parse_expose(["3000-3001/udp", "80"], exposed)
    assert exposed == {"3000/udp": {}, "3001/udp": {}, "80/tcp": {}}
    with pytest.raises(ValueError, match="invalid port format for --expose: 1:2"):
        ports.parse_expose(["1:2"], {})


def test_mount_parsing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert mounts.parse_mount("type=bind,source=./d,target=/x,readonly,bind-propagation=rslave") == {
        "Type": "bind", "Source": str(tmp_path / "d"), "Target": "/x", "ReadOnly": True,
        "BindOptions": {"Propagation": "rslave"}}
    assert mounts.parse_mount("target=/v,volume-label=a=b,volume-opt=o=1,volume-driver=local") == {
        "Type": "volume", "Target": "/v",
        "VolumeOptions": {"Labels": {"a": "b"}, "DriverConfig": {"Name": "local", "Options": {"o": "1"}}}}
    assert mounts.parse_mount('type=tmpfs,"dst=/t",tmpfs-size=1m,tmpfs-mode=1777') == {
        "Type": "tmpfs", "Target": "/t", "TmpfsOptions": {"SizeBytes": 1 << 20, "Mode": 0o1777}}


@pytest.mark.parametrize("spec,msg", [
    ("type=bind", "target is required"), ("target=/x,foo", "invalid field 'foo' must be a key=value pair"),
    ("target=/x,colour=red", "unexpected key 'colour' in 'colour=red'"),
    ("type=bind,target=/x,volume-nocopy", "cannot mix 'volume-*' options with mount type 'bind'"),
    ("type=tmpfs,target=/x,tmpfs-size=big", "invalid value for tmpfs-size: big"),
    ("target=/x,readonly=maybe", "invalid value for readonly: maybe"),
])
def test_mount_errors(spec, msg):
    with pytest.raises(ValueError) as e:
        mounts.parse_mount(spec)
    assert str(e.value) == msg


def test_volumes_and_binds(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    binds, vols = mounts.volumes_and_binds(["/a:/b:ro", "named:/n", "/anon", "./rel:/r", "~/x:/y"])
    assert binds == ["/a:/b:ro", "named:/n", f"{tmp_path}/rel:/r", "~/x:/y"] and vols == {"/anon": {}}
    for bad in (":/x", "/a:"):
        with pytest.raises(ValueError, match="empty section between colons"):
            mounts.volumes_and_binds([bad])


@pytest.mark.parametrize("spec,want", [
    ("/dev/sda", {"PathOnHost": "/dev/sda", "PathInContainer": "/dev/sda", "CgroupPermissions": "rwm"}),
    ("/dev/sda:r", {"PathOnHost": "/dev/sda", "PathInContainer": "/dev/sda", "CgroupPermissions": "r"}),
    ("/dev/sda:/dev/xvda:rw", {"PathOnHost": "/dev/sda", "PathInContainer": "/dev/xvda", "CgroupPermissions": "rw"}),
])
def test_devices(spec, want):
    assert mounts.parse_device(spec) == want


@pytest.mark.parametrize("spec,msg", [("a:b:c:d", "bad format for path: a:b:c:d"), ("/a:/b:x", "bad mode specified: x"),
                                       ("/a:b", "b is not an absolute path")])
def test_device_errors(spec, msg):
    with pytest.raises(ValueError) as e:
        mounts.parse_device(spec)
    assert str(e.value) == msg


def test_resources():
    assert resources.parse_nanocpus("1.5") == 1500000000
    assert resources.parse_nanocpus("0.000000001") == 1
    assert resources.parse_ulimit("nofile=100:200") == {"Name": "nofile", "Hard": 200, "Soft": 100}
    assert resources.parse_ulimit("nproc=5") == {"Name": "nproc", "Hard": 5, "Soft": 5}
    for bad, msg in (("foo=1", "invalid ulimit type: foo"), ("nofile=3:2", "ulimit soft limit must be less than or equal to hard limit: 3 > 2"),
                     ("nofile=1:2:3", "too many limit value arguments - 1:2:3, can only have up to two, `soft[:hard]`")):
        with pytest.raises(ValueError) as e:
            resources.parse_ulimit(bad)
        assert str(e.value) == msg
    assert resources.parse_restart("on-failure:3") == {"Name": "on-failure", "MaximumRetryCount": 3}
    assert resources.parse_restart("always") == {"Name": "always", "MaximumRetryCount": 0}
    with pytest.raises(ValueError, match="no policy provided before colon"):
        resources.parse_restart(":3")
    assert resources.effective_caps(["net_admin", "CAP_SYS_TIME"], ["ALL", "chown", "net_admin"]) == \
        (["CAP_NET_ADMIN", "CAP_SYS_TIME"], ["ALL", "CAP_CHOWN"])
    assert resources.effective_caps(["all", "net_raw"], ["net_raw", "chown"]) == (["ALL"], ["CAP_CHOWN", "CAP_NET_RAW"])
    assert resources.effective_caps([], []) == (None, None)


def test_env_files(tmp_path):
    f = tmp_path / "env"
    f.write_text("\ufeffA=1\n# c\n  B=two words\nSET\nUNSET\nC=\n")
    assert envopts.parse_env_file(str(f), {"SET": "yes"}) == ["A=1", "B=two words", "SET=yes", "C="]
    assert envopts.parse_env_file(str(f), {"SET": "yes"}, lookup=False) == ["A=1", "B=two words", "C="]
    f.write_text("BAD KEY=1\n")
    with pytest.raises(ValueError, match="variable 'BAD KEY' contains whitespaces"):
        envopts.parse_env_file(str(f))
    f.write_bytes(b"A=\xff\n")
    with pytest.raises(ValueError, match="invalid utf8"):
        envopts.parse_env_file(str(f))
    assert envopts.validate_env("HOME", {"HOME": "/root"}) == "HOME=/root"
    assert envopts.validate_env("NOPE", {}) == "NOPE"
    assert envopts.kv_map(["a=b", "c", "d=e=f"]) == {"a": "b", "c": "", "d": "e=f"}


def _body(*argv):
    f = FlagSet(False)
    add_flags(f, run=True)
    opts, args = f.parse(list(argv))
    return build(opts, args[0], args[1:], {"HOME": "/root"})


def test_build_body_basics():
    b = _body("-it", "--name", "x", "-e", "HOME", "busybox", "sh")
    assert (b["AttachStdin"], b["OpenStdin"], b["StdinOnce"], b["Tty"], b["Env"], b["Cmd"]) == \
        (True, True, True, True, ["HOME=/root"], ["sh"])
    assert b["HostConfig"]["RestartPolicy"] == {"Name": "no", "MaximumRetryCount": 0}
    assert list(b["NetworkingConfig"]["EndpointsConfig"]) == ["default"]
    b = _body("-a", "stderr", "--entrypoint=", "--stop-timeout", "3", "busybox")
    assert (b["AttachStdout"], b["AttachStderr"], b["Entrypoint"], b["Cmd"], b["StopTimeout"]) == \
        (False, True, [""], None, 3)
    assert "StopTimeout" not in _body("busybox")
    b = _body("--pids-limit", "7", "--init", "--memory-swap", "-1", "--network", "none", "busybox")
    hc = b["HostConfig"]
    assert (hc["PidsLimit"], hc["Init"], hc["MemorySwap"], b["NetworkingConfig"]) == (7, True, -1, {"EndpointsConfig": {}})


@pytest.mark.parametrize("argv,msg", [
    (["--rm", "--restart", "always"], "conflicting options: cannot specify both --restart and --rm"),
    (["--no-healthcheck", "--health-retries", "1"], "--no-healthcheck conflicts with --health-* options"),
    (["--health-timeout", "-1s"], "--health-timeout cannot be negative"),
    (["--security-opt", "foo"], 'Invalid --security-opt: "foo"'),
    (["--security-opt", "seccomp=/nonexistent.json"], "opening seccomp profile (/nonexistent.json) failed: open /nonexistent.json: no such file or directory"),
    (["--pull", "x"], "invalid pull option: 'x': must be one of \"always\", \"missing\" or \"never\""),
    (["--network-alias", "a"], "network-scoped aliases are only supported for user-defined networks"),
    (["-p", "70000"], "invalid containerPort: 70000"),
    (["--device", "a:b:c:d"], "bad format for path: a:b:c:d"),
    (["--env-file", "/nonexistent-env"], "open /nonexistent-env: no such file or directory"),
])
def test_build_errors(argv, msg):
    with pytest.raises(ConfigError) as e:
        _body(*argv, "busybox")
    assert str(e.value) == msg


def test_health_and_seccomp(tmp_path):
    prof = tmp_path / "p.json"
    prof.write_text('{ "defaultAction" : "SCMP_ACT_ERRNO" }')
    b = _body("--health-cmd", "true", "--health-interval", "1m", "--health-retries", "3",
              "--security-opt", f"seccomp={prof}", "--security-opt", "no-new-privileges", "busybox")
    assert b["Healthcheck"] == {"Test": ["CMD-SHELL", "true"], "Interval": 60_000_000_000, "Retries": 3}
    assert b["HostConfig"]["SecurityOpt"] == ['seccomp={"defaultAction":"SCMP_ACT_ERRNO"}', "no-new-privileges"]
    assert _body("--no-healthcheck", "busybox")["Healthcheck"] == {"Test": ["NONE"]}
