"""The daemon's networking over its lifetime: running containers keep their network (published port,
addresses) while the daemon is down; a restart rebuilds rules and DNS from the state and drops the
endpoints of containers that died meanwhile; once everything is removed and the daemon stops,
``ip link``, ``ip netns`` and the nftables ruleset are as they were before it started."""
import os
import shutil
import signal
import socket
import subprocess

import pytest
from dn_support import free_port, host_snapshot, http_get, inspect, link_exists, owned, uniq, wait_for

from dockyard.daemon.containers.networking_host import kernel_names
from dockyardd_support import Dockyardd

pytestmark = pytest.mark.root


def _pid(d, name):
    return inspect(d, name)["State"]["Pid"]


def _in_netns(pid, *cmd):
    return subprocess.run(["nsenter", f"--net=/proc/{pid}/ns/net", *cmd], capture_output=True, text=True, timeout=10)


def _port_free(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("0.0.0.0", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


@pytest.fixture
def daemon():
    if os.geteuid() != 0:
        pytest.skip("needs root")
    if shutil.which("docker") is None:
        pytest.skip("the docker CLI is not on PATH")
    d = Dockyardd()
    try:
        yield d
    finally:
        d.cleanup()


def test_restart_keeps_and_rebuilds_then_leaves_nothing(daemon):
    d = daemon
    before = host_snapshot(d)
    d.start()
    d.load_busybox()
    naming, tables = kernel_names(d.data_root)
    net, web, peer, doomed = uniq("life"), uniq("web"), uniq("peer"), uniq("doomed")
    p_web, p_doomed = free_port(), free_port()
    d.docker("network", "create", net)
    wid = d.docker("run", "-d", "--name", web, "--network", net, "--network-alias", "site", "-p",
                   f"127.0.0.1:{p_web}:80", "busybox", "httpd", "-f", "-p", "80", "-h", "/etc").stdout.strip()
    d.docker("run", "-d", "--name", peer, "--network", net, "busybox", "sleep", "300")
    d.docker("run", "-d", "--name", doomed, "--network", net, "-p", f"127.0.0.1:{p_doomed}:80", "busybox", "httpd",
             "-f", "-p", "80", "-h", "/etc")
    web_ip = inspect(d, web)["NetworkSettings"]["Networks"][net]["IPAddress"]
    doomed_veth = [x for x in owned(d)["links"] if naming.is_veth(x)]
    assert len(doomed_veth) == 3

    peer_pid, doomed_pid = _pid(d, peer), _pid(d, doomed)

    # the daemon stops: containers keep their network, the kernel serves the published port
    d.stop_daemon()
    assert "kept for the running containers" in d.log()
    assert naming.default_bridge in owned(d)["links"] and owned(d)["tables"] == sorted([tables.filter, tables.nat])
    assert http_get("127.0.0.1", p_web) == wid[:12]
    out = _in_netns(peer_pid, "busybox", "wget", "-qO-", f"http://{web_ip}/hostname")
    assert out.stdout.strip() == wid[:12]
    # one container dies while the daemon is away
    os.kill(doomed_pid, signal.SIGKILL)

    # the daemon comes back: rules, port reservations and DNS rebuilt, the dead one's endpoint dropped
    d.start()
    assert wait_for(lambda: not inspect(d, doomed)["State"]["Running"])
    assert http_get("127.0.0.1", p_web) == wid[:12]
    assert d.docker("exec", peer, "ping", "-c1", "-W2", "site").returncode == 0
    out = d.docker("run", "--rm", "--network", net, "busybox", "wget", "-qO-", f"http://{web}/hostname")
    assert out.stdout.strip() == wid[:12]
    assert len([x for x in owned(d)["links"] if naming.is_veth(x)]) == 2
    with pytest.raises(OSError):
        http_get("127.0.0.1", p_doomed, timeout=1)
    assert _port_free(p_doomed)
    assert not _port_free(p_web)    # still reserved for web
    assert inspect(d, doomed)["NetworkSettings"]["Ports"] == {}
    # the dead container starts again with its port
    d.docker("start", doomed)
    assert http_get("127.0.0.1", p_doomed) == inspect(d, doomed)["Id"][:12]

    # remove everything: each removal takes its own kernel objects with it
    d.docker("rm", "-f", web, peer, doomed)
    assert [x for x in owned(d)["links"] if naming.is_veth(x)] == []
    bridges = [x for x in owned(d)["links"] if naming.is_bridge(x)]
    assert len(bridges) == 1
    d.docker("network", "rm", net)
    assert not link_exists(bridges[0])
    assert _port_free(p_web) and _port_free(p_doomed)
    d.stop_daemon()
    assert "rules and bridges removed" in d.log()
    assert owned(d)["links"] == [] and owned(d)["tables"] == []
    assert wait_for(lambda: host_snapshot(d) == before, timeout=3), (before, host_snapshot(d))


def test_bridge_and_bip_flags():
    if os.geteuid() != 0 or shutil.which("docker") is None:
        pytest.skip("needs root and the docker CLI")
    import json
    import secrets
    third = secrets.choice(range(10, 250))
    br = "dytb" + secrets.token_hex(3)
    d = Dockyardd(extra_args=["--bridge", br, "--bip", f"10.192.{third}.1/24"])
    try:
        d.start()
        d.load_busybox()
        info = json.loads(d.docker("network", "inspect", "bridge").stdout)[0]
        assert info["IPAM"]["Config"] == [{"Subnet": f"10.192.{third}.0/24", "Gateway": f"10.192.{third}.1"}]
        assert info["Options"]["com.docker.network.bridge.name"] == br and link_exists(br)
        out = d.docker("run", "--rm", "busybox", "ip", "-o", "-4", "addr", "show", "eth0").stdout
        assert f"10.192.{third}." in out
        d.stop_daemon()
        assert not link_exists(br)
    finally:
        d.cleanup()
    bad = Dockyardd(extra_args=["--bip", "10.192.0.7/24"])
    try:
        with pytest.raises(RuntimeError, match="the bridge's address must be the first address"):
            bad.start()
        assert owned(bad) == {"links": [], "tables": [], "netns": owned(bad)["netns"]}
    finally:
        bad.cleanup()
