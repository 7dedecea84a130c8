"""Daemon restarts: running containers keep their network, rules/reservations/DNS come back from
the state, endpoints of containers that are gone and leftover interfaces are removed."""
import json
import socket

import pytest
from dynet_support import sh

from dockyard.network.ports import parse_publish

pytestmark = pytest.mark.root


def _get(port: int) -> str:
    s = socket.create_connection(("127.0.0.1", port), timeout=3)
    try:
        return s.recv(100).decode()
    finally:
        s.close()


def _port_held(port: int) -> bool:
    s = socket.socket()
    try:
        s.bind(("0.0.0.0", port))
        return False
    except OSError:
        return True
    finally:
        s.close()


def _links() -> set:
    return {link["ifname"] for link in json.loads(sh("ip", "-j", "link").stdout)}


def test_restart_keeps_running_containers_and_rebuilds(env):
    svc = env.service()
    svc.create({"Name": "keep"})
    ns = env.container()
    cid = "a" * 64
    ep = svc.connect(cid, ns.path, "keep", name="web")
    ns.set_resolv_conf(svc.resolv_conf("keep"))
    env.serve(ns, "tcp", 80, "web")
    port = int(svc.publish(cid, parse_publish("127.0.0.1::80"))["80/tcp"][0]["HostPort"])
    rules = svc.firewall.ruleset()
    links = _links()

    svc.close()                                     # the daemon stops; the container keeps running
    assert _links() == links
    assert _get(port) == f"web {ep['Gateway']}"     # published through the kernel, no daemon needed

    svc2 = env.service(running={cid: ns.path})      # the daemon starts again
    assert svc2.firewall.ruleset() == rules
    assert _port_held(port)
    assert svc2.ports(cid) == {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(port)}]}
    assert ns.probe("resolve", "web").stdout.split() == [ep["IPAddress"]]   # DNS listener is back
    ns2 = env.container()
    ep2 = svc2.connect("b" * 64, ns2.path, "keep", name="two")
    assert ep2["IPAddress"] != ep["IPAddress"]      # the allocation survived the restart
    svc2.close()

    # both containers stopped while the daemon was down; a stray interface with Dockyard's name
    stray = env.naming.veth("f" * 64)
    sh("ip", "link", "add", stray, "type", "bridge")
    svc3 = env.service(running={})
    info = svc3.inspect("keep")
    assert info["Containers"] == {} and svc3.ports(cid) == {}
    now = _links()
    assert stray not in now and not any(env.naming.is_veth(n) for n in now)
    assert env.naming.bridge(info["Id"]) in now
    assert not _port_held(port)
    with pytest.raises(OSError):
        _get(port)


def test_shutdown_keeps_network_of_running_containers(env):
    svc = env.service()
    ns = env.container()
    ep = svc.connect("c" * 64, ns.path, "bridge", name="c")
    assert svc.shutdown() is False                  # a container is connected: nothing removed
    assert env.naming.default_bridge in _links()
    assert ns.ping(ep["Gateway"])
    svc2 = env.service(running={})                  # …until the next start finds it gone
    assert svc2.inspect("bridge")["Containers"] == {}
    assert svc2.shutdown() is True
    assert env.naming.default_bridge not in _links()
    assert sh("nft", "list", "table", "ip", env.tables.filter, check=False).returncode != 0
