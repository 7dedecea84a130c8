"""Behaviour users rely on: health checks, OOM, log rotation, --init, df/prune, disconnecting clients."""
import json
import os
import shutil
import socket
import time

import pytest

pytestmark = [pytest.mark.root,
              pytest.mark.skipif(shutil.which("docker") is None, reason="the docker CLI is not on PATH")]


def wait_for(pred, timeout=15.0, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(interval)
    return False


def inspect(d, name):
    return json.loads(d.docker("inspect", name).stdout)[0]


def test_health_check_goes_healthy_then_unhealthy(d):
    d.docker("run", "-d", "--name", "hc", "--health-cmd", "test -e /tmp/ok", "--health-interval", "200ms",
             "--health-retries", "2", "busybox", "sh", "-c", "touch /tmp/ok; sleep 2; rm /tmp/ok; sleep 100")
    try:
        assert wait_for(lambda: (inspect(d, "hc")["State"].get("Health") or {}).get("Status") == "healthy")
        assert "(healthy)" in d.docker("ps", "--format", "{{.Status}}", "-f", "name=hc").stdout
        assert wait_for(lambda: inspect(d, "hc")["State"]["Health"]["Status"] == "unhealthy")
        log = inspect(d, "hc")["State"]["Health"]["Log"]
        assert log and log[-1]["ExitCode"] == 1 and len(log) <= 5
        assert d.docker("ps", "-q", "-f", "health=unhealthy").stdout.strip()
    finally:
        d.docker("rm", "-f", "hc")


def test_oom_kill_shown_in_inspect(d):
    p = d.docker("run", "--name", "oom", "--memory", "32m", "--memory-swap", "32m", "busybox", "sh", "-c",
                 "dd if=/dev/zero of=/dev/null bs=200M count=1", check=False)
    assert p.returncode == 137
    st = inspect(d, "oom")["State"]
    assert st["OOMKilled"] is True and st["ExitCode"] == 137
    d.docker("rm", "oom")


def test_json_log_rotation(d):
    d.docker("run", "--name", "chatty", "--log-opt", "max-size=10k", "--log-opt", "max-file=3", "busybox", "sh", "-c",
             "i=0; while [ $i -lt 2000 ]; do echo line-$i-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; i=$((i+1)); done")
    log_path = inspect(d, "chatty")["LogPath"]
    assert os.path.exists(log_path + ".1") and os.path.exists(log_path + ".2")
    assert not os.path.exists(log_path + ".3")
    assert all(os.path.getsize(p) <= 11 * 1024 for p in (log_path, log_path + ".1", log_path + ".2"))
    tail = d.docker("logs", "--tail", "2", "chatty").stdout.split()
    assert tail[-1].startswith("line-1999-")
    d.docker("rm", "chatty")


def test_init_reaps_and_forwards(d):
    if not (shutil.which("tini") or shutil.which("tini-static") or shutil.which("catatonit")):
        pytest.skip("no tini or catatonit installed")
    out = d.docker("run", "--rm", "--init", "busybox", "sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '").stdout
    assert "docker-init" in out or "tini" in out or "catatonit" in out


def test_system_df_and_prune(d):
    d.docker("create", "--name", "junk", "busybox", "true")
    df = d.docker("system", "df").stdout
    assert "Images" in df and "Containers" in df and "Local Volumes" in df
    out = d.docker("container", "prune", "-f").stdout
    assert "Total reclaimed space" in out
    assert d.docker("ps", "-aq", "-f", "name=junk").stdout.strip() == ""


def test_client_going_away_mid_stream_does_not_hurt(d):
    d.docker("run", "-d", "--name", "streamer", "busybox", "sh", "-c", "while true; do echo tick; sleep 0.05; done")
    try:
        for path in ("/v1.41/containers/streamer/logs?follow=1&stdout=1", "/v1.41/events",
                     "/v1.41/containers/streamer/attach?stream=1&stdout=1"):
            for _ in range(3):
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(d.sock)
                method = "POST" if "attach" in path else "GET"
                s.sendall(f"{method} {path} HTTP/1.1\r\nHost: x\r\nUpgrade: tcp\r\nConnection: Upgrade\r\n\r\n".encode())
                s.recv(1024)
                s.close()  # gone mid-stream
        assert d.docker("inspect", "-f", "{{.State.Running}}", "streamer").stdout.strip() == "true"
        assert d.docker("run", "--rm", "busybox", "echo", "still serving").stdout == "still serving\n"
    finally:
        d.docker("rm", "-f", "streamer")


def test_quickstart_script_runs_a_container(d):
    """scripts/quickstart (what `make run` runs after installing) against this daemon."""
    import subprocess
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    d.docker("rmi", "busybox", check=False)
    p = subprocess.run([os.path.join(repo, "scripts", "quickstart")], env=d.env, capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 0, p.stderr
    assert "making the busybox image" in p.stdout and "Hello from Dockyard" in p.stdout
    d.docker("image", "inspect", "busybox:latest")


def test_runc_as_the_runtime(d):
    if not shutil.which("runc"):
        pytest.skip("runc is not installed")
    out = d.docker("run", "--rm", "--runtime", "runc", "busybox", "sh", "-c", "echo via-runc; exit 2", check=False)
    assert out.returncode == 2 and out.stdout == "via-runc\n"
    runtimes = json.loads(d.docker("info", "--format", "{{json .Runtimes}}").stdout)
    assert "runc" in runtimes and "dockyard" in runtimes
    p = d.docker("run", "--rm", "--runtime", "nosuch", "busybox", "true", check=False)
    assert p.returncode == 125 and "unknown or invalid runtime name: nosuch" in p.stderr
