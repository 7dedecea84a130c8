"""User seccomp profiles (Docker's format and the OCI shape), the daemon's hook, and spec generation."""
import json
import os

import pytest

from dockyard.daemon.containers import defaults as D
from dockyard.daemon.containers.specgen import SpecGenError, SpecInputs, generate
from dockyard.daemon.containers.specgen_host import HostInfo
from dockyard.security import seccomp_default, seccomp_hook
from dockyard.security.seccomp_profile import ProfileError, load

DEFAULT = list(D.DEFAULT_CAPABILITIES)
MOBY = os.path.join(os.path.dirname(__file__), "../../../../shared/reference/seccomp/default-moby-v28.5.2.json")
if not os.path.exists(MOBY):
    MOBY = "/work/shared/reference/seccomp/default-moby-v28.5.2.json"


def ARG(index=0, value=1, op="SCMP_CMP_EQ"):
    return {"index": index, "value": value, "op": op}


def P(**doc):
    doc.setdefault("defaultAction", "SCMP_ACT_ERRNO")
    return json.dumps(doc)


def test_docker_format_with_archmap_includes_excludes():
    prof = P(defaultErrnoRet=1, archMap=[
        {"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
        {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]}],
        syscalls=[{"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
                  {"name": "ptrace", "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "4.8"}},
                  {"names": ["mount"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
                  {"names": ["clone"], "action": "SCMP_ACT_ALLOW", "excludes": {"caps": ["CAP_SYS_ADMIN"]},
                   "args": [{"index": 0, "value": 2114060288, "op": "SCMP_CMP_MASKED_EQ"}]},
                  {"names": ["arch_prctl"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["amd64"]}},
                  {"names": ["set_tls"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["arm64"]}},
                  {"names": ["newcall"], "action": "SCMP_ACT_ALLOW", "excludes": {"minKernel": "4.0"}}])
    out = load(prof, DEFAULT, machine="x86_64", kernel=(6, 1))
    assert out["architectures"] == ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]
    assert out["defaultErrnoRet"] == 1
    names = [r["names"] for r in out["syscalls"]]
    assert names == [["read", "write"], ["ptrace"], ["clone"], ["arch_prctl"]]
    assert out["syscalls"][2]["args"] == [{"index": 0, "value": 2114060288, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]
    admin = load(prof, DEFAULT + ["CAP_SYS_ADMIN"], machine="x86_64", kernel=(6, 1))
    assert [r["names"] for r in admin["syscalls"]] == [["read", "write"], ["ptrace"], ["mount"], ["arch_prctl"]]
    old = load(prof, DEFAULT, machine="x86_64", kernel=(3, 10))
    old_names = [r["names"] for r in old["syscalls"]]
    assert ["ptrace"] not in old_names and ["newcall"] in old_names
    arm = load(prof, DEFAULT, machine="aarch64", kernel=(6, 1))
    assert arm["architectures"] == ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"]
    assert ["set_tls"] in [r["names"] for r in arm["syscalls"]]


def test_oci_shape_passes_through():
    doc = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
           "flags": ["SECCOMP_FILTER_FLAG_LOG"],
           "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}
    out = load(json.dumps(doc), DEFAULT, machine="x86_64", kernel=(6, 1))
    assert out == {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
                   "flags": ["SECCOMP_FILTER_FLAG_LOG"],
                   "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}


def test_mobys_own_default_profile_loads():
    if not os.path.exists(MOBY):
        pytest.skip("reference profile absent")
    with open(MOBY) as f:
        text = f.read()
    out = load(text, DEFAULT, machine="x86_64", kernel=(6, 1))
    assert out["defaultAction"] == "SCMP_ACT_ERRNO" and len(out["syscalls"]) > 10
    assert not any("mount" in r["names"] for r in out["syscalls"])


@pytest.mark.parametrize("text,message", [
    ("{", "decoding seccomp profile failed"),
    ("[]", "must be a JSON object"),
    ("[" * 100000, "decoding seccomp profile failed"),
    (P(defaultAction=5), "defaultAction: expected a string"),
    (P(defaultAction="SCMP_ACT_NOPE"), "defaultAction: unknown seccomp action"),
    (json.dumps({}), "defaultAction: expected a string"),
    (P(defaultErrnoRet=-1), "defaultErrnoRet"),
    (P(architectures=["SCMP_ARCH_X86_64"], archMap=[{"architecture": "SCMP_ARCH_X86_64"}]),
     "either 'architectures' or 'archMap'"),
    (P(architectures=["SCMP_ARCH_PDP11"]), "architectures[0]: unknown seccomp architecture"),
    (P(archMap={"a": 1}), "archMap: expected a list"),
    (P(flags=["SECCOMP_FILTER_FLAG_NOPE"]), "flags[0]"),
    (P(listenerPath="/run/x.sock"), "listenerPath"),
    (P(syscalls={}), "syscalls: expected a list"),
    (P(syscalls=[5]), "syscalls[0]: expected an object"),
    (P(syscalls=[{"action": "SCMP_ACT_ALLOW"}]), "syscalls[0].names: must list at least one"),
    (P(syscalls=[{"names": "read", "action": "SCMP_ACT_ALLOW"}]), "syscalls[0].names: expected a list"),
    (P(syscalls=[{"names": [1], "action": "SCMP_ACT_ALLOW"}]), "syscalls[0].names[0]: expected a string"),
    (P(syscalls=[{"name": "read", "names": ["write"], "action": "SCMP_ACT_ALLOW"}]), "either 'name' or 'names'"),
    (P(syscalls=[{"names": ["read"], "action": "SCMP_ACT_NOTIFY"}]), "not supported"),
    (P(syscalls=[{"names": ["read"], "action": "ALLOW"}]), "syscalls[0].action: unknown seccomp action"),
    (P(syscalls=[{"names": ["read"], "action": "SCMP_ACT_ERRNO", "errnoRet": 70000}]), "syscalls[0].errnoRet"),
    (P(syscalls=[{"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [ARG(index=6)]}]),
     "syscalls[0].args[0].index"),
    (P(syscalls=[{"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [ARG(value=-1)]}]),
     "syscalls[0].args[0].value"),
    (P(syscalls=[{"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 1, "op": "EQ"}]}]),
     "syscalls[0].args[0].op: unknown seccomp operator"),
    (P(syscalls=[{"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [ARG()] * 7}]),
     "at most 6"),
    (P(syscalls=[{"names": ["read"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": "CAP_X"}}]), "includes.caps"),
    (P(syscalls=[{"names": ["read"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "four"}}]),
     "invalid kernel version"),
    (P(syscalls=[{"names": ["read"], "action": "SCMP_ACT_ALLOW"}] * 5000), "too many"),
])
def test_bad_profiles_name_the_problem(text, message):
    with pytest.raises(ProfileError) as e:
        load(text, DEFAULT, machine="x86_64", kernel=(6, 1))
    assert message in str(e.value)
    assert "\n" not in str(e.value)


def _inputs(tmp_path):
    rootfs = tmp_path / "rootfs"
    (rootfs / "etc").mkdir(parents=True)
    (rootfs / "etc/passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    (rootfs / "etc/group").write_text("root:x:0:\n")
    host = HostInfo(capabilities=list(D.DEFAULT_CAPABILITIES) + ["CAP_SYS_ADMIN", "CAP_SYS_PTRACE"])
    return SpecInputs("c" * 64, str(rootfs), str(tmp_path / "files"), seccomp=seccomp_hook.hook, host=host)


def test_specgen_uses_the_default_profile_for_the_containers_caps(tmp_path):
    inp = _inputs(tmp_path)
    cfg = generate({"Image": "busybox", "Cmd": ["true"]}, inp).config
    assert cfg["linux"]["seccomp"] == seccomp_default.profile(DEFAULT)
    cfg = generate({"Image": "busybox", "Cmd": ["true"], "HostConfig": {"CapAdd": ["SYS_ADMIN"]}}, inp).config
    assert cfg["linux"]["seccomp"] == seccomp_default.profile(DEFAULT + ["CAP_SYS_ADMIN"])
    assert "mount" in json.dumps(cfg["linux"]["seccomp"])


def test_specgen_unconfined_privileged_and_custom(tmp_path):
    inp = _inputs(tmp_path)
    body = {"Image": "busybox", "Cmd": ["true"]}
    unconfined = dict(body, HostConfig={"SecurityOpt": ["seccomp=unconfined"]})
    assert "seccomp" not in generate(unconfined, inp).config["linux"]
    assert "seccomp" not in generate(dict(body, HostConfig={"Privileged": True}), inp).config["linux"]
    custom = P(defaultAction="SCMP_ACT_ALLOW", syscalls=[{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"}])
    sc = generate(dict(body, HostConfig={"SecurityOpt": [f"seccomp={custom}"]}), inp).config["linux"]["seccomp"]
    assert sc == {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"}]}
    with pytest.raises(SpecGenError, match="Error loading seccomp profile: syscalls\\[0\\].action"):
        generate(dict(body, HostConfig={"SecurityOpt": ['seccomp={"defaultAction":"SCMP_ACT_ALLOW",'
                                                        '"syscalls":[{"names":["x"],"action":"NOPE"}]}']}), inp)
    with pytest.raises(SpecGenError, match="Error loading seccomp profile: decoding"):
        generate(dict(body, HostConfig={"SecurityOpt": ["seccomp={not json"]}), inp)
