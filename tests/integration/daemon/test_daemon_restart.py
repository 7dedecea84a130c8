"""dockyardd restarts and crashes: containers keep running, state, logs and volumes survive (needs root)."""
import json
import os
import shutil
import signal
import subprocess
import time

import pytest

from dockyardd_support import Dockyardd

pytestmark = [pytest.mark.root,
              pytest.mark.skipif(shutil.which("docker") is None, reason="the docker CLI is not on PATH")]




@pytest.fixture
def d():
    if os.geteuid() != 0:
        pytest.skip("needs root: dockyardd runs real containers")
    daemon = Dockyardd()
    try:
        daemon.start()
        daemon.load_busybox()
        yield daemon
    finally:
        daemon.cleanup()


def wait_for(pred, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL])
def test_containers_survive_daemon_restart(d, how):
    d.docker("volume", "create", "vol")
    d.docker("run", "-d", "--name", "keeper", "-v", "vol:/data", "busybox", "sh", "-c",
             "echo before > /data/f; i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.2; done")
    d.docker("run", "--name", "done", "busybox", "sh", "-c", "echo finished; exit 3", check=False)
    pid = json.loads(d.docker("inspect", "keeper").stdout)[0]["State"]["Pid"]
    assert wait_for(lambda: "tick 1" in d.docker("logs", "keeper").stdout)
    d.stop_daemon(how)
    assert os.path.exists(f"/proc/{pid}"), "the container died with the daemon"
    time.sleep(0.5)  # it keeps running and logging while no daemon is up
    d.start()
    st = json.loads(d.docker("inspect", "keeper").stdout)[0]["State"]
    assert st["Running"] and st["Pid"] == pid
    done = json.loads(d.docker("inspect", "done").stdout)[0]["State"]
    assert done["Status"] == "exited" and done["ExitCode"] == 3
    logs = d.docker("logs", "keeper").stdout
    assert "tick 0" in logs and logs.count("tick") >= 4
    assert d.docker("logs", "done").stdout == "finished\n"
    assert d.docker("exec", "keeper", "cat", "/data/f").stdout == "before\n"
    # an exit that happens while the daemon is down is picked up, exit code included
    d.stop_daemon(how)
    os.kill(pid, signal.SIGKILL)
    assert wait_for(lambda: not os.path.exists(f"/proc/{pid}") or
                    open(f"/proc/{pid}/stat").read().split()[2] == "Z")
    time.sleep(0.3)
    d.start()
    assert wait_for(lambda: json.loads(d.docker("inspect", "keeper").stdout)[0]["State"]["Status"] == "exited")
    st = json.loads(d.docker("inspect", "keeper").stdout)[0]["State"]
    assert st["ExitCode"] == 137
    d.docker("rm", "keeper", "done")
    assert json.loads(d.docker("volume", "inspect", "vol").stdout)[0]["Name"] == "vol"


def test_daemon_killed_mid_operations_comes_back_consistent(d):
    """SIGKILL the daemon while creates, starts and removes are in flight; after a restart every
    container is in a state docker could show, and all of them can be removed."""
    procs = []
    for i in range(4):
        procs.append(subprocess.Popen(["docker", "run", "-d", "--name", f"k{i}", "busybox", "sleep", "60"],
                                      env=d.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    time.sleep(0.15)
    d.stop_daemon(signal.SIGKILL)
    for p in procs:
        p.wait(30)
    d.start()
    docs = json.loads(d.docker("inspect", *[c for c in d.docker("ps", "-aq").stdout.split()]).stdout) \
        if d.docker("ps", "-aq").stdout.strip() else []
    for doc in docs:
        st = doc["State"]
        assert st["Status"] in ("created", "running", "exited"), st
        if st["Running"]:
            assert os.path.exists(f"/proc/{st['Pid']}")
    for doc in docs:
        d.docker("rm", "-f", doc["Id"])
    assert d.docker("ps", "-aq").stdout.strip() == ""
    runtime_root = os.path.join(d.exec_root, "runtime")
    assert not os.path.isdir(runtime_root) or [n for n in os.listdir(runtime_root) if not n.startswith(".")] == []
