"""The runtime's command line: documents it writes, bad input, logs, terminals (needs root)."""
import json
import os
import shutil
import subprocess
import sys
import time

import pytest

RUNTIME = os.path.join(os.path.dirname(sys.executable), "dockyard-runtime")

pytestmark = pytest.mark.root

SCHEMAS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))),
                       "..", "shared", "reference", "runtime-spec", "v1.3.0", "schema")


def schema_validator(name):
    jsonschema = pytest.importorskip("jsonschema")
    path = os.path.join(SCHEMAS, name)
    if not os.path.exists(path):
        pytest.skip(f"runtime-spec schemas not found at {SCHEMAS} (../shared/reference)")
    with open(path) as f:
        schema = json.load(f)
    resolver = jsonschema.RefResolver(base_uri=f"file://{os.path.abspath(SCHEMAS)}/", referrer=schema)
    return jsonschema.Draft4Validator(schema, resolver=resolver)


def test_spec_writes_a_valid_config(tmp_path):
    p = subprocess.run([RUNTIME, "spec", "--bundle", str(tmp_path)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    cfg = json.loads((tmp_path / "config.json").read_text())
    schema_validator("config-schema.json").validate(cfg)
    p = subprocess.run([RUNTIME, "spec", "--bundle", str(tmp_path)], capture_output=True, text=True)
    assert p.returncode == 1 and "exists" in p.stderr
    p = subprocess.run([RUNTIME, "spec", "--rootless", "--bundle", str(tmp_path / "x")], capture_output=True, text=True)
    assert p.returncode != 0  # no such directory: a clear error, not a traceback
    assert "Traceback" not in p.stderr


def test_features_and_state_match_the_schemas(rt):
    feats = json.loads(rt("features").stdout)
    schema_validator("features-schema.json").validate(feats)
    assert "user" in feats["linux"]["namespaces"] and feats["linux"]["seccomp"]["enabled"] is True
    b = rt.bundle(rt.spec(["sleep", "100"]))
    rt("create", "--bundle", b, "st1")
    schema_validator("state-schema.json").validate(rt.state("st1"))
    rt("delete", "-f", "st1")


def assert_nothing_left(rt, cid):
    assert not os.path.exists(os.path.join(rt.root, cid)), "state dir left behind"
    for ctrl in ("memory", "pids", "cpu", "freezer"):
        base = "/sys/fs/cgroup/" + ctrl
        for dirpath, dirnames, _ in os.walk(base):
            assert cid not in dirnames, f"cgroup {dirpath}/{cid} left behind"
    out = subprocess.run(["pgrep", "-f", f"dockyard-runtime.*{cid}"], capture_output=True, text=True).stdout
    assert not out.strip(), f"runtime processes left: {out}"


@pytest.mark.parametrize("case,needle", [
    ("invalid-json", "invalid JSON"),
    ("no-config", "config.json not found"),
    ("missing-rootfs", "rootfs"),
    ("bad-namespace", "unknown namespace type 'warp'"),
    ("bad-cwd", "cwd"),
    ("no-such-binary", "executable file not found"),
])
def test_bad_input_is_one_line_and_leaves_nothing(rt, tmp_path, case, needle):
    b = tmp_path / f"b-{case}"
    b.mkdir()
    spec = rt.spec(["true"])
    if case == "invalid-json":
        (b / "config.json").write_text("{ nope")
    elif case == "no-config":
        pass
    else:
        if case == "missing-rootfs":
            spec["root"]["path"] = str(tmp_path / "nowhere")
        elif case == "bad-namespace":
            spec["linux"]["namespaces"].append({"type": "warp"})
        elif case == "bad-cwd":
            spec["process"]["cwd"] = "/no/such/dir"
        elif case == "no-such-binary":
            spec["process"]["args"] = ["definitely-not-here"]
        (b / "config.json").write_text(json.dumps(spec))
    cid = f"bad-{case}"
    p = rt("create", "--bundle", str(b), cid, check=False)
    assert p.returncode == 1
    lines = [line for line in p.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and needle in lines[0], p.stderr
    assert_nothing_left(rt, cid)


def test_duplicate_id_refused_and_original_untouched(rt):
    b = rt.bundle(rt.spec(["sleep", "100"]))
    rt("create", "--bundle", b, "dup")
    pid = rt.state("dup")["pid"]
    p = rt("create", "--bundle", b, "dup", check=False)
    assert p.returncode == 1 and "container with id exists: dup" in p.stderr
    assert rt.state("dup")["pid"] == pid and rt.state("dup")["status"] == "created"
    rt("delete", "-f", "dup")
    assert_nothing_left(rt, "dup")


def test_unknown_command_and_flag(rt):
    p = rt("frobnicate", check=False)
    assert p.returncode == 1 and "no such command" in p.stderr
    p = rt("create", "--bogus", "x", check=False)
    assert p.returncode == 1 and "flag provided but not defined: -bogus" in p.stderr
    p = rt("start", check=False)
    assert p.returncode == 1 and "missing argument" in p.stderr


def test_json_log_for_containerd(rt, tmp_path):
    log = tmp_path / "log.json"
    p = subprocess.run([RUNTIME, "--root", rt.root, "--log", str(log), "--log-format", "json", "delete", "ghost"],
                       capture_output=True, text=True)
    assert p.returncode == 1
    entry = json.loads(log.read_text().splitlines()[-1])
    assert entry["level"] == "error" and "ghost" in entry["msg"] and entry["time"].endswith("Z")


def test_run_with_terminal_proxies_the_pty(rt, tmp_path):
    if not shutil.which("tmux"):
        pytest.skip("tmux is not installed")
    s = rt.spec(["sh"])
    s["process"]["terminal"] = True
    b = rt.bundle(s)
    sock = str(tmp_path / "tmux.sock")
    session = "dyrt"
    subprocess.run(["tmux", "-S", sock, "new-session", "-d", "-s", session, "-x", "120", "-y", "40",
                    f"{RUNTIME} --root {rt.root} run --bundle {b} ttyrun; echo EXIT=$?; sleep 30"], check=True)
    try:
        def pane():
            return subprocess.run(["tmux", "-S", sock, "capture-pane", "-p", "-t", session],
                                  capture_output=True, text=True).stdout

        def wait_for(text, timeout=10):
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if text in pane():
                    return
                time.sleep(0.1)
            raise AssertionError(f"{text!r} not on screen:\n{pane()}")

        wait_for("#")
        subprocess.run(["tmux", "-S", sock, "send-keys", "-t", session, "tty; stty size; echo $((6*7))", "Enter"])
        wait_for("42")
        screen = pane()
        assert "/dev/pts/0" in screen and "40 120" in screen
        subprocess.run(["tmux", "-S", sock, "send-keys", "-t", session, "exit 4", "Enter"])
        wait_for("EXIT=4")
    finally:
        subprocess.run(["tmux", "-S", sock, "kill-server"], capture_output=True)
