"""The real Docker CLI (28.x, on PATH) against dockyardd: the verbs people use daily (needs root)."""
import json
import shutil
import time

import pytest


pytestmark = [pytest.mark.root,
              pytest.mark.skipif(shutil.which("docker") is None, reason="the docker CLI is not on PATH")]




def test_version_and_info(d):
    v = json.loads(d.docker("version", "--format", "{{json .Server}}").stdout)
    assert v["ApiVersion"] >= "1.41" and v["Os"] == "linux"
    assert d.docker("info", "--format", "{{.OperatingSystem}}").stdout.strip()


def test_run_prints_and_exit_codes(d):
    p = d.docker("run", "--rm", "busybox", "sh", "-c", "echo out; echo err >&2; exit 3", check=False)
    assert p.returncode == 3 and p.stdout == "out\n" and p.stderr == "err\n"
    assert d.docker("run", "--rm", "busybox", "true").returncode == 0
    p = d.docker("run", "--rm", "busybox", "nosuchcommand", check=False)
    assert p.returncode == 127 and "executable file not found" in p.stderr
    assert d.docker("ps", "-aq").stdout.strip() == "", "--rm containers must be gone"


def test_run_with_stdin(d):
    p = d.docker("run", "--rm", "-i", "busybox", "sh", "-c", "tr a-z A-Z", input="hello stdin\n")
    assert p.stdout == "HELLO STDIN\n"


def test_detached_lifecycle(d):
    cid = d.docker("run", "-d", "--name", "life", "busybox", "sh", "-c",
                   "echo started; trap 'echo bye; exit 0' TERM; while true; do sleep 0.1; done").stdout.strip()
    assert len(cid) == 64
    ps = d.docker("ps", "--format", "{{.Names}} {{.Status}}").stdout
    assert "life Up" in ps
    for _ in range(50):
        if "started" in d.docker("logs", "life").stdout:
            break
        time.sleep(0.1)
    assert d.docker("logs", "life").stdout == "started\n"
    st = json.loads(d.docker("inspect", "life").stdout)[0]
    assert st["Id"] == cid and st["State"]["Running"] and st["State"]["Pid"] > 0 and st["Name"] == "/life"
    assert st["Config"]["Cmd"][0] == "sh" and st["HostConfig"]["RestartPolicy"]["Name"] == "no"
    p = d.docker("exec", "life", "sh", "-c", "echo in-exec; exit 4", check=False)
    assert p.returncode == 4 and p.stdout == "in-exec\n"
    assert d.docker("exec", "life", "hostname").stdout.strip() == cid[:12]
    p = d.docker("rm", "life", check=False)
    assert p.returncode != 0 and "stop the container before removing" in p.stderr
    d.docker("stop", "-t", "5", "life")
    st = json.loads(d.docker("inspect", "life").stdout)[0]["State"]
    assert st["Status"] == "exited" and st["ExitCode"] == 0
    assert d.docker("logs", "life").stdout == "started\nbye\n"
    d.docker("start", "life")
    assert d.docker("inspect", "-f", "{{.State.Status}}", "life").stdout.strip() == "running"
    d.docker("kill", "life")
    assert d.docker("wait", "life").stdout.strip() == "137"
    d.docker("rm", "life")
    p = d.docker("inspect", "life", check=False)
    assert p.returncode != 0 and "No such" in p.stderr


def test_volumes_named_and_data_survives(d):
    d.docker("volume", "create", "keep")
    assert "keep" in d.docker("volume", "ls", "-q").stdout.split()
    d.docker("run", "--rm", "-v", "keep:/data", "busybox", "sh", "-c", "echo persisted > /data/f")
    assert d.docker("run", "--rm", "-v", "keep:/data:ro", "busybox", "cat", "/data/f").stdout == "persisted\n"
    p = d.docker("run", "--rm", "-v", "keep:/data:ro", "busybox", "sh", "-c", "echo x > /data/g", check=False)
    assert p.returncode != 0 and "Read-only" in p.stderr
    info = json.loads(d.docker("volume", "inspect", "keep").stdout)[0]
    assert info["Driver"] == "local" and info["Mountpoint"].endswith("/keep/_data")
    d.docker("volume", "rm", "keep")


def test_named_volume_filled_from_image(d):
    out = d.docker("run", "--rm", "-v", "etcvol:/etc", "busybox", "cat", "/etc/passwd").stdout
    assert out.startswith("root:")
    d.docker("volume", "rm", "etcvol")


def test_bind_mount_and_tmpfs(d, tmp_path):
    host = tmp_path / "share"
    host.mkdir()
    (host / "in.txt").write_text("from host\n")
    out = d.docker("run", "--rm", "-v", f"{host}:/share", "--tmpfs", "/scratch", "busybox", "sh", "-c",
                   "cat /share/in.txt; echo back > /share/out.txt; grep ' /scratch ' /proc/mounts | cut -d' ' -f3"
                   ).stdout
    assert out.split() == ["from", "host", "tmpfs"]
    assert (host / "out.txt").read_text() == "back\n"


def test_run_options_reach_the_container(d):
    out = d.docker("run", "--rm", "-e", "A=1", "-w", "/tmp", "-u", "1000:1000", "--hostname", "boxy", "busybox",
                   "sh", "-c", "echo $A; pwd; id -u; hostname").stdout.split()
    assert out == ["1", "/tmp", "1000", "boxy"]
    out = d.docker("run", "--rm", "--read-only", "busybox", "sh", "-c", "touch /x 2>&1; echo rc=$?").stdout
    assert "Read-only" in out and "rc=1" in out
    out = d.docker("run", "--rm", "--memory", "64m", "--pids-limit", "50", "busybox", "sh", "-c",
                   "cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max").stdout.split()
    assert out == [str(64 << 20), "50"]
    out = d.docker("run", "--rm", "--cap-drop", "ALL", "busybox", "grep", "CapEff", "/proc/self/status").stdout
    assert out.split()[1] == "0000000000000000"


def test_errors_are_dockers(d):
    p = d.docker("run", "--rm", "nosuchimage:latest", "true", check=False)
    assert p.returncode == 125
    p = d.docker("create", "--name", "dup", "busybox", "true")
    p = d.docker("create", "--name", "dup", "busybox", "true", check=False)
    assert p.returncode != 0 and "is already in use" in p.stderr
    d.docker("rm", "dup")
    p = d.docker("stop", "nosuch", check=False)
    assert p.returncode != 0 and "No such container: nosuch" in p.stderr


def test_restart_policy_on_failure(d):
    d.docker("run", "-d", "--name", "flaky", "--restart", "on-failure:2", "busybox", "sh", "-c", "exit 5")
    for _ in range(100):
        st = json.loads(d.docker("inspect", "flaky").stdout)[0]
        if st["RestartCount"] == 2 and st["State"]["Status"] == "exited":
            break
        time.sleep(0.1)
    assert st["RestartCount"] == 2 and st["State"]["ExitCode"] == 5
    d.docker("rm", "-f", "flaky")


def test_pause_unpause_top_rename(d):
    d.docker("run", "-d", "--name", "pz", "busybox", "sleep", "100")
    d.docker("pause", "pz")
    assert "Paused" in d.docker("ps", "--format", "{{.Status}}", "-f", "name=pz").stdout
    d.docker("unpause", "pz")
    d.docker("rename", "pz", "pz2")
    assert d.docker("inspect", "-f", "{{.Name}}", "pz2").stdout.strip() == "/pz2"
    d.docker("rm", "-f", "pz2")


def test_events_stream(d):
    since = str(int(time.time()) - 1)
    d.docker("run", "--rm", "busybox", "true")
    out = d.docker("events", "--since", since, "--until", str(int(time.time()) + 1), "--filter", "type=container",
                   "--format", "{{.Action}}").stdout.split()
    assert "create" in out and "start" in out and "die" in out and "destroy" in out


def test_docker_python_sdk(d):
    docker = pytest.importorskip("docker", reason="pip install docker (the SDK) for this test")
    client = docker.DockerClient(base_url=d.host)
    try:
        out = client.containers.run("busybox", ["echo", "sdk"], remove=True)
        assert out == b"sdk\n"
        c = client.containers.run("busybox", ["sleep", "100"], detach=True, name="sdkc")
        c.reload()
        assert c.status == "running"
        res = c.exec_run(["sh", "-c", "echo e; exit 2"])
        assert res.exit_code == 2 and res.output == b"e\n"
        c.stop(timeout=1)
        c.remove()
        assert [i.tags for i in client.images.list()] == [["busybox:latest"]]
    finally:
        client.close()
