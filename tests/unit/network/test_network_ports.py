import socket

import pytest

from dockyard.network.errors import InvalidParameter, PortInUse
from dockyard.network.ports import PortBinding, PortRequest, Reservations, from_api, parse_publish, to_api


@pytest.mark.parametrize("spec, want", [
    ("80", [PortRequest("tcp", 80)]),
    ("8080:80", [PortRequest("tcp", 80, "", 8080, 8080)]),
    ("8080:80/udp", [PortRequest("udp", 80, "", 8080, 8080)]),
    ("127.0.0.1:8080:80", [PortRequest("tcp", 80, "127.0.0.1", 8080, 8080)]),
    ("127.0.0.1::80", [PortRequest("tcp", 80, "127.0.0.1")]),
    ("0.0.0.0:8080:80", [PortRequest("tcp", 80, "", 8080, 8080)]),
    ("[::1]:8080:80", [PortRequest("tcp", 80, "::1", 8080, 8080)]),
    ("[::1]::80/udp", [PortRequest("udp", 80, "::1")]),
    ("8000-8001:80-81", [PortRequest("tcp", 80, "", 8000, 8000), PortRequest("tcp", 81, "", 8001, 8001)]),
    ("8000-8010:80", [PortRequest("tcp", 80, "", 8000, 8010)]),
    ("80-81", [PortRequest("tcp", 80), PortRequest("tcp", 81)]),
    ("8080:80/TCP", [PortRequest("tcp", 80, "", 8080, 8080)]),
])
def test_parse_publish(spec, want):
    assert parse_publish(spec) == want


@pytest.mark.parametrize("spec, msg", [
    ("", "invalid container port"),
    ("80/sctp", "only tcp and udp"),
    ("0:80", "ports are 1-65535"),
    ("8080:70000", "invalid container port"),
    ("90-80", "low to high"),
    ("8000-8002:80-81", "differ in size"),
    ("1.2.3:8080:80", "invalid host IP"),
    ("::1:8080:80", "brackets"),
    (":80", "invalid port specification"),
    ("[::1:8080:80", "invalid port specification"),
    ("a:b:c:d", "invalid"),
])
def test_parse_publish_rejects(spec, msg):
    with pytest.raises(InvalidParameter, match=msg):
        parse_publish(spec)


def test_from_api_and_publish_all():
    reqs = from_api({"80/tcp": [{"HostIp": "", "HostPort": "8080"}, {"HostIp": "127.0.0.1", "HostPort": ""}],
                     "53/udp": None},
                    exposed=["80/tcp", "443/tcp", "7000-7001/udp"], publish_all=True)
    assert reqs == [PortRequest("tcp", 80, "", 8080, 8080), PortRequest("tcp", 80, "127.0.0.1"),
                    PortRequest("udp", 53), PortRequest("tcp", 443), PortRequest("udp", 7000),
                    PortRequest("udp", 7001)]
    with pytest.raises(InvalidParameter):
        from_api({"80-81/tcp": [{}]})


def test_to_api():
    got = to_api([PortBinding("tcp", 80, "", 8080), PortBinding("tcp", 80, "::", 8080),
                  PortBinding("udp", 53, "127.0.0.1", 5353)])
    assert got == {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}, {"HostIp": "::", "HostPort": "8080"}],
                   "53/udp": [{"HostIp": "127.0.0.1", "HostPort": "5353"}]}


def _free_port(proto="tcp") -> int:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_reserve_holds_port_and_release_frees_it():
    res = Reservations()
    try:
        port = _free_port()
        b = res.reserve(PortRequest("tcp", 80, "127.0.0.1", port, port))
        assert b == PortBinding("tcp", 80, "127.0.0.1", port) and b.key == f"tcp/127.0.0.1/{port}"
        other = socket.socket()
        with pytest.raises(OSError):
            other.bind(("127.0.0.1", port))
        other.close()
        with pytest.raises(PortInUse, match="already published"):
            res.reserve(PortRequest("tcp", 81, "127.0.0.1", port, port))
        res.release(b)
        other = socket.socket()
        other.bind(("127.0.0.1", port))
        other.close()
    finally:
        res.close()


def _udp_holder_with_free_tcp():
    for _ in range(50):
        holder = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        holder.bind(("0.0.0.0", 0))
        port = holder.getsockname()[1]
        probe = socket.socket()
        try:
            probe.bind(("127.0.0.1", port))
            return holder, port
        except OSError:
            holder.close()
        finally:
            probe.close()
    pytest.skip("no port free over both protocols")


def test_reserve_port_in_use_by_another_program():
    holder, port = _udp_holder_with_free_tcp()
    res = Reservations()
    try:
        with pytest.raises(PortInUse, match=f"host port 127.0.0.1:{port}/udp is already in use"):
            res.reserve(PortRequest("udp", 53, "127.0.0.1", port, port))
        # the same number over TCP is another port
        res.reserve(PortRequest("tcp", 53, "127.0.0.1", port, port))
    finally:
        holder.close()
        res.close()


def _held_port_with_free_next():
    """A held port whose successor is free (retried: other programs use ports too)."""
    for _ in range(50):
        holder = socket.socket()
        holder.bind(("127.0.0.1", 0))
        port = holder.getsockname()[1]
        probe = socket.socket()
        try:
            probe.bind(("127.0.0.1", port + 1))
            return holder, port
        except OSError:
            holder.close()
        finally:
            probe.close()
    pytest.skip("no pair of free ports")


def test_reserve_range_skips_used_and_random():
    holder, port = _held_port_with_free_next()
    res = Reservations()
    try:
        b = res.reserve(PortRequest("tcp", 80, "127.0.0.1", port, port + 1))
        assert b.host_port == port + 1
        r = res.reserve(PortRequest("tcp", 80, "127.0.0.1"))
        assert 1024 < r.host_port <= 65535
        with pytest.raises(PortInUse, match=f"no free host port in {port}-{port + 1}/tcp"):
            res.reserve(PortRequest("tcp", 80, "127.0.0.1", port, port + 1))
    finally:
        holder.close()
        res.close()


def test_reserve_unknown_address():
    res = Reservations()
    with pytest.raises(InvalidParameter, match="the host has no such address"):
        res.reserve(PortRequest("tcp", 80, "203.0.113.77", 8080, 8080))
