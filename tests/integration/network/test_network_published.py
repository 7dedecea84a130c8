"""Published ports on the real kernel: DNAT from 127.0.0.1, a host address and the outside,
hairpin, UDP, the IPv6 proxy, and a host port in use."""
import socket

import pytest

from dockyard.network.errors import InvalidParameter, PortInUse
from dockyard.network.ports import parse_publish

pytestmark = pytest.mark.root


def _free_port(proto="tcp") -> int:
    for _ in range(50):
        a = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            a.bind(("0.0.0.0", 0))
            port = a.getsockname()[1]
            b.bind(("0.0.0.0", port))
            return port
        except OSError:
            continue
        finally:
            a.close()
            b.close()
    raise AssertionError("no free port")


def _local(proto, host, port, timeout=3.0) -> str:
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        s.connect((host, port))
        if proto == "udp":
            s.send(b"hi")
            return s.recv(2048).decode()
        data = b""
        while chunk := s.recv(2048):
            data += chunk
        return data.decode()
    finally:
        s.close()


@pytest.fixture
def web(env):
    """A service, a network "pub" and a container "web" with a TCP server on port 80."""
    svc = env.service()
    svc.create({"Name": "pub"})
    ns = env.container()
    ep = svc.connect("a" + "0" * 63, ns.path, "pub", name="web")
    env.serve(ns, "tcp", 80, "web")
    return svc, ns, ep


def test_published_tcp_everywhere(env, web):
    svc, ns, ep = web
    port = _free_port()
    ports = svc.publish("a" + "0" * 63, parse_publish(f"{port}:80"))
    assert ports == {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": str(port)}, {"HostIp": "::", "HostPort": str(port)}]}
    gw = ep["Gateway"]
    # from the host to 127.0.0.1: the container sees the bridge's address (masqueraded), not 127.0.0.1
    assert _local("tcp", "127.0.0.1", port) == f"web {gw}"
    # over IPv6 through the userland proxy (the kernel cannot NAT IPv6 to IPv4)
    assert _local("tcp", "::1", port) == f"web {gw}"
    # from the outside world through a host address: the client's own address arrives
    out, out_host, out_ip = env.outside()
    assert out.probe("tcp", out_host, str(port)).stdout.strip() == f"web {out_ip}"
    # hairpin: the container reaches its own published port through a host address
    assert ns.probe("tcp", out_host, str(port)).stdout.strip() == f"web {gw}"
    assert ns.probe("tcp", gw, str(port)).stdout.strip() == f"web {gw}"
    # another container of the same network, and one of another network, through the host
    svc.create({"Name": "other"})
    peer, other = env.container(), env.container()
    svc.connect("b" * 64, peer.path, "pub", name="peer")
    svc.connect("c" * 64, other.path, "other", name="other")
    assert peer.probe("tcp", gw, str(port)).stdout.strip() == f"web {gw}"
    assert other.probe("tcp", out_host, str(port)).stdout.strip().startswith("web ")
    # the port is held: no other program can take it
    s = socket.socket()
    with pytest.raises(OSError):
        s.bind(("0.0.0.0", port))
    s.close()
    svc.unpublish("a" + "0" * 63)
    assert svc.ports("a" + "0" * 63) == {}
    with pytest.raises(OSError):
        _local("tcp", "127.0.0.1", port, timeout=1)


def test_published_on_one_address_and_random_port(env, web):
    svc, ns, ep = web
    got = svc.publish("a" + "0" * 63, parse_publish("127.0.0.1::80"))
    [b] = got["80/tcp"]
    assert b["HostIp"] == "127.0.0.1" and int(b["HostPort"]) > 1024
    port = int(b["HostPort"])
    assert _local("tcp", "127.0.0.1", port) == f"web {ep['Gateway']}"
    out, out_host, _ = env.outside()
    assert out.probe("tcp", out_host, str(port), "1").returncode != 0   # only 127.0.0.1 publishes it


def test_published_udp(env):
    svc = env.service()
    svc.create({"Name": "dgram"})
    ns = env.container()
    ep = svc.connect("d" * 64, ns.path, "dgram", name="dns")
    ns.set_resolv_conf(svc.resolv_conf("dgram"))
    env.serve(ns, "udp", 53, "udp")       # port 53 stays free for the container's own programs…
    assert ns.probe("resolve", "dns").stdout.split() == [ep["IPAddress"]]   # …beside the embedded DNS
    port = _free_port()
    svc.publish("d" * 64, parse_publish(f"{port}:53/udp"))
    gw = svc.endpoints("d" * 64)["dgram"]["Gateway"]
    assert _local("udp", "127.0.0.1", port) == f"udp {gw} hi"
    assert _local("udp", "::1", port) == f"udp {gw} hi"
    out, out_host, out_ip = env.outside()
    assert out.probe("udp", out_host, str(port)).stdout.strip() == f"udp {out_ip} hi"


def test_port_in_use_changes_nothing(env, web):
    svc, ns, ep = web
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    taken = busy.getsockname()[1]
    free = _free_port()
    rules = svc.firewall.ruleset()
    try:
        with pytest.raises(PortInUse, match=f"host port 0.0.0.0:{taken}/tcp is already in use"):
            svc.publish("a" + "0" * 63, parse_publish(f"{free}:80") + parse_publish(f"{taken}:81"))
        assert svc.firewall.ruleset() == rules and svc.ports("a" + "0" * 63) == {}
        s = socket.socket()               # the first port was given back
        s.bind(("0.0.0.0", free))
        s.close()
    finally:
        busy.close()
    # two containers cannot publish the same host port
    svc.publish("a" + "0" * 63, parse_publish(f"{free}:80"))
    other = env.container()
    svc.connect("e" * 64, other.path, "pub", name="e")
    with pytest.raises(PortInUse):
        svc.publish("e" * 64, parse_publish(f"{free}:80"))
    # internal networks publish nothing
    svc.create({"Name": "sealed", "Internal": True})
    sealed = env.container()
    svc.connect("f" * 64, sealed.path, "sealed", name="f")
    with pytest.raises(InvalidParameter, match="not connected to a non-internal"):
        svc.publish("f" * 64, parse_publish("80"))
