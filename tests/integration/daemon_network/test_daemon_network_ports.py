"""Published ports through the daemon: 127.0.0.1 and this host's own address, random host ports shown
by ``port``, ``ps`` and inspect (docker's and dockyard's CLI alike), ranges, ``-P`` with exposed ports,
UDP, and a host port in use (a clear error, nothing left configured)."""
import socket

import pytest
from dn_support import CLIS, cli, free_port, host_ipv4, http_get, inspect, owned, udp_ask, udp_echo_in, uniq

pytestmark = pytest.mark.root

HTTPD = ["busybox", "httpd", "-f", "-p", "80", "-h", "/etc"]


@pytest.mark.parametrize("which", CLIS)
def test_random_port_on_loopback_shown_everywhere(d, which):
    name = uniq("pub")
    cid = cli(d, which, "run", "-d", "--name", name, "-p", "127.0.0.1::80", *HTTPD).stdout.strip()
    try:
        ports = inspect(d, name)["NetworkSettings"]["Ports"]
        binding = ports["80/tcp"]
        assert len(binding) == 1 and binding[0]["HostIp"] == "127.0.0.1"
        hp = int(binding[0]["HostPort"])
        assert 1024 < hp < 65536
        assert cli(d, which, "port", name).stdout.strip() == f"80/tcp -> 127.0.0.1:{hp}"
        assert cli(d, which, "port", name, "80").stdout.strip() == f"127.0.0.1:{hp}"
        ps = cli(d, which, "ps", "--filter", f"name={name}", "--format", "{{.Ports}}").stdout.strip()
        assert ps == f"127.0.0.1:{hp}->80/tcp"
        assert http_get("127.0.0.1", hp) == cid[:12]
    finally:
        cli(d, which, "rm", "-f", name)
    with pytest.raises(OSError):   # gone with the container
        http_get("127.0.0.1", hp, timeout=1)


def test_fixed_port_on_loopback_and_host_address(d):
    addr = host_ipv4()
    if addr is None:
        pytest.skip("this host has no default route (no address of its own to test)")
    name, hp = uniq("pub"), free_port()
    cid = d.docker("run", "-d", "--name", name, "-p", f"{hp}:80", *HTTPD).stdout.strip()
    try:
        assert http_get("127.0.0.1", hp) == cid[:12]
        assert http_get(addr, hp) == cid[:12]
        # hairpin: the container reaches its own published port through the host's address
        out = d.docker("exec", name, "timeout", "3", "wget", "-qO-", f"http://{addr}:{hp}/hostname").stdout
        assert out.strip() == cid[:12]
        assert {b["HostIp"] for b in inspect(d, name)["NetworkSettings"]["Ports"]["80/tcp"]} >= {"0.0.0.0"}
    finally:
        d.docker("rm", "-f", name)


def test_port_ranges_and_publish_all(d):
    name, base = uniq("rng"), free_port(count=2)
    cid = d.docker("run", "-d", "--name", name, "-p", f"127.0.0.1:{base}-{base + 1}:80-81", "--expose", "82",
                   "-P", "busybox", "sh", "-c",
                   "httpd -p 80 -h /etc; httpd -p 81 -h /etc; exec httpd -f -p 82 -h /etc").stdout.strip()
    try:
        ports = inspect(d, name)["NetworkSettings"]["Ports"]
        assert ports["80/tcp"] == [{"HostIp": "127.0.0.1", "HostPort": str(base)}]
        assert ports["81/tcp"] == [{"HostIp": "127.0.0.1", "HostPort": str(base + 1)}]
        random82 = int(ports["82/tcp"][0]["HostPort"])
        for p in (base, base + 1, random82):
            assert http_get("127.0.0.1", p) == cid[:12]
        assert f"0.0.0.0:{random82}->82/tcp" in d.docker("ps", "--filter", f"name={name}", "--format",
                                                            "{{.Ports}}").stdout
    finally:
        d.docker("rm", "-f", name)


def test_udp_published(d):
    name, hp = uniq("udp"), free_port()
    d.docker("run", "-d", "--name", name, "-p", f"{hp}:5353/udp", "busybox", "sleep", "60")
    server = None
    try:
        assert inspect(d, name)["NetworkSettings"]["Ports"]["5353/udp"][0]["HostPort"] == str(hp)
        server = udp_echo_in(inspect(d, name)["State"]["Pid"], 5353)
        assert udp_ask("127.0.0.1", hp, b"one") == b"echo:one"
        addr = host_ipv4()
        if addr:
            assert udp_ask(addr, hp, b"two") == b"echo:two"
    finally:
        if server:
            server.kill()
            server.wait()
        d.docker("rm", "-f", name)


@pytest.mark.parametrize("which", CLIS)
def test_host_port_in_use_is_a_clear_error_and_leaves_nothing(d, which):
    name, hp = uniq("busy"), free_port()
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    holder.bind(("0.0.0.0", hp))
    holder.listen(1)
    before = owned(d)["links"]
    try:
        p = cli(d, which, "run", "-d", "--name", name, "-p", f"{hp}:80", *HTTPD, check=False)
        assert p.returncode != 0
        assert f"{hp}" in p.stderr and "already in use" in p.stderr
        st = inspect(d, name)["State"]
        assert not st["Running"] and "already in use" in st["Error"]
        assert owned(d)["links"] == before, "the failed start left a veth behind"
        net = cli(d, which, "network", "inspect", "-f", "{{json .Containers}}", "bridge").stdout
        assert inspect(d, name)["Id"] not in net
        # the same container starts once the port is free, and publishes it
        holder.close()
        cli(d, which, "start", name)
        assert http_get("127.0.0.1", hp) == inspect(d, name)["Id"][:12]
    finally:
        holder.close()
        cli(d, which, "rm", "-f", name, check=False)
