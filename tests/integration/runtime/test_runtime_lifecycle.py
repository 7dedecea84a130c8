"""dockyard-runtime's lifecycle verbs against real containers (needs root)."""
import json
import os
import signal
import subprocess
import time

import pytest

pytestmark = pytest.mark.root


def wait_status(rt, cid, want, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if rt.state(cid)["status"] == want:
            return
        time.sleep(0.02)
    raise AssertionError(f"{cid} did not reach {want}: {rt.state(cid)}")


def test_run_prints_and_exits_with_status(rt):
    p = rt.run(["echo", "hello from dockyard"])
    assert p.returncode == 0, p.stderr
    assert p.stdout == "hello from dockyard\n"
    p = rt.run(["sh", "-c", "exit 3"])
    assert p.returncode == 3
    # run removes the container afterwards (runc's default)
    assert rt("list", "-q").stdout.strip() == ""


def test_init_is_pid1_and_ps_sees_only_the_container(rt):
    p = rt.run(["sh", "-c", "echo $$; ps -o pid,comm; true"])
    lines = p.stdout.split("\n")
    assert lines[0] == "1"
    pids = [line.split()[0] for line in lines[2:] if line.strip()]
    assert pids[0] == "1" and len(pids) == 2, p.stdout  # sh and ps, nothing of the host


def test_create_start_state_kill_delete(rt, tmp_path):
    spec = rt.spec(["sh", "-c", "echo started; exec sleep 1000"])
    b = rt.bundle(spec)
    out = open(tmp_path / "out.txt", "w")
    rt("create", "--bundle", b, "--pid-file", str(tmp_path / "pid"), "life", stdout=out)
    st = rt.state("life")
    assert st["status"] == "created"
    assert st["pid"] == int((tmp_path / "pid").read_text())
    assert st["bundle"] == b and st["id"] == "life" and st["ociVersion"].startswith("1.")
    # init waits for start: nothing printed yet
    assert (tmp_path / "out.txt").read_text() == ""
    rt("start", "life")
    wait_status(rt, "life", "running")
    for _ in range(100):
        if (tmp_path / "out.txt").read_text():
            break
        time.sleep(0.02)
    # the container's stdio is what create was given
    assert (tmp_path / "out.txt").read_text() == "started\n"
    cgdirs = rt.cgroup_dirs("life")
    assert cgdirs and all(os.path.isdir(d) for d in cgdirs)
    p = rt("delete", "life", check=False)
    assert p.returncode != 0 and "not stopped" in p.stderr
    rt("kill", "life", "KILL")
    wait_status(rt, "life", "stopped")
    assert rt.state("life")["pid"] == 0
    rt("delete", "life")
    assert rt("state", "life", check=False).returncode != 0
    assert not any(os.path.exists(d) for d in cgdirs), "cgroups left behind"
    assert not os.path.exists(os.path.join(rt.root, "life"))


def test_kill_accepts_names_and_numbers_and_all(rt):
    b = rt.bundle(rt.spec(["sh", "-c", "trap 'exit 7' TERM; sleep 1000 & wait"]))
    rt("run", "-d", "--bundle", b, "k1")
    rt("kill", "k1", "15")
    wait_status(rt, "k1", "stopped")
    rt("delete", "k1")
    b = rt.bundle(rt.spec(["sh", "-c", "sleep 1000 & sleep 1000 & wait"]))
    rt("run", "-d", "--bundle", b, "k2")
    time.sleep(0.2)
    assert len(json.loads(rt("ps", "--format", "json", "k2").stdout)) == 3
    rt("kill", "--all", "k2", "SIGKILL")
    wait_status(rt, "k2", "stopped")
    assert rt("kill", "k2", "TERM", check=False).returncode != 0
    rt("delete", "k2")
    assert rt("kill", "nosuch", "TERM", check=False).returncode != 0


def test_delete_force_kills_running(rt):
    b = rt.bundle(rt.spec(["sleep", "1000"]))
    rt("run", "-d", "--bundle", b, "f1")
    pid = rt.state("f1")["pid"]
    rt("delete", "--force", "f1")
    assert not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/stat").read().split()[2] == "Z"
    # --force on a missing container is not an error (containerd relies on it)
    assert rt("delete", "--force", "f1").returncode == 0


def test_pause_resume_ps_list(rt):
    b = rt.bundle(rt.spec(["sleep", "1000"]))
    rt("run", "-d", "--bundle", b, "p1")
    rt("pause", "p1")
    assert rt.state("p1")["status"] == "paused"
    pid = rt.state("p1")["pid"]
    assert "State:\tD" in open(f"/proc/{pid}/status").read() or "T" in open(f"/proc/{pid}/status").read().split("State:")[1][:4]
    rt("resume", "p1")
    assert rt.state("p1")["status"] == "running"
    assert json.loads(rt("ps", "--format", "json", "p1").stdout) == [pid]
    table = rt("ps", "p1").stdout.splitlines()
    assert "PID" in table[0] and any("sleep" in line for line in table[1:])
    lst = rt("list").stdout.splitlines()
    assert lst[0].split() == ["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]
    assert lst[1].split()[:3] == ["p1", str(pid), "running"]
    assert json.loads(rt("list", "--format", "json").stdout)[0]["id"] == "p1"
    rt("delete", "-f", "p1")


def test_exec_joins_the_container(rt, tmp_path):
    b = rt.bundle(rt.spec(["sleep", "1000"], hostname="exechost"))
    rt("run", "-d", "--bundle", b, "e1")
    p = rt("exec", "--env", "FOO=bar", "e1", "sh", "-c", "hostname; ps -o pid,comm | grep -c sleep; echo $FOO")
    assert p.stdout.split() == ["exechost", "1", "bar"]
    assert rt("exec", "e1", "sh", "-c", "exit 5", check=False).returncode == 5
    proc = rt.spec(["sh", "-c", "id -u; pwd"])["process"]
    proc["user"] = {"uid": 1000, "gid": 1000}
    proc["cwd"] = "/tmp"
    (tmp_path / "proc.json").write_text(json.dumps(proc))
    p = rt("exec", "--process", str(tmp_path / "proc.json"), "e1")
    assert p.stdout.split() == ["1000", "/tmp"]
    # --detach with a pid file, as containerd and podman call it
    rt("exec", "--detach", "--pid-file", str(tmp_path / "e.pid"), "e1", "sleep", "100")
    epid = int((tmp_path / "e.pid").read_text())
    assert os.path.exists(f"/proc/{epid}")
    assert epid in json.loads(rt("ps", "--format", "json", "e1").stdout)
    assert "executable file not found" in rt("exec", "e1", "nosuchcmd", check=False).stderr
    rt("delete", "-f", "e1")
    assert rt("exec", "e1", "true", check=False).returncode != 0


def test_update_changes_limits(rt):
    b = rt.bundle(rt.spec(["sleep", "1000"]))
    rt("run", "-d", "--bundle", b, "u1")
    rt("update", "--resources", "-", "u1", input=json.dumps({"pids": {"limit": 42}}))
    pids_dirs = [d for d in rt.cgroup_dirs("u1") if "/pids/" in d]
    assert open(os.path.join(pids_dirs[0], "pids.max")).read().strip() == "42"
    rt("update", "--memory", "64m", "u1")
    mem = [d for d in rt.cgroup_dirs("u1") if "/memory/" in d][0]
    assert int(open(os.path.join(mem, "memory.limit_in_bytes")).read()) == 64 << 20
    rt("delete", "-f", "u1")


def test_signals_forwarded_by_foreground_run(rt):
    b = rt.bundle(rt.spec(["sh", "-c", "trap 'echo got-term; exit 9' TERM; echo ready; while true; do sleep 0.05; done"]))
    p = subprocess.Popen([rt.binary, "--root", rt.root, "run", "--bundle", b, "sig"], stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline() == "ready\n"
        p.send_signal(signal.SIGTERM)
        assert p.wait(10) == 9
        assert "got-term" in p.stdout.read()
    finally:
        if p.poll() is None:
            p.kill()
        p.wait()
