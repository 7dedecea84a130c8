"""Network modes and per-container settings: ``--network none|host|container:NAME``, the default
bridge (``bridge`` in the API, the daemon's own device, not 172.17.0.0/16), ``--ip``,
``--mac-address``, ``--hostname``, ``--add-host`` (with host-gateway), ``--dns``, ``--dns-search``,
and the generated /etc/hosts, /etc/hostname and /etc/resolv.conf."""
import ipaddress
import json
import os

import pytest
from dn_support import CLIS, cli, host_ipv4, inspect, uniq

from dockyard.daemon.containers.networking_host import kernel_names

pytestmark = pytest.mark.root


def test_none_has_only_loopback(d):
    out = d.docker("run", "--rm", "--network", "none", "busybox", "sh", "-c",
                   "ip -o link | cut -d: -f2; ip -o -4 addr | tr -s ' ' | cut -d' ' -f2,4").stdout.split()
    assert out == ["lo", "lo", "127.0.0.1/8"]
    name = uniq("none")
    d.docker("create", "--name", name, "--network", "none", "busybox", "true")
    try:
        assert inspect(d, name)["NetworkSettings"]["Networks"] == {}
    finally:
        d.docker("rm", name)


def test_host_mode_sees_the_hosts_interfaces(d):
    out = d.docker("run", "--rm", "--network", "host", "busybox", "sh", "-c",
                   "readlink /proc/self/ns/net; ip -o link | cut -d: -f2").stdout.split()
    assert out[0] == os.readlink("/proc/self/ns/net")
    routes = json.loads(os.popen("ip -j route show default").read() or "[]")
    if routes:
        assert routes[0]["dev"] in out[1:]
    assert "lo" in out[1:]


def test_container_mode_shares_the_stack(d):
    a = uniq("owner")
    d.docker("run", "-d", "--name", a, "busybox", "sleep", "60")
    try:
        ip = inspect(d, a)["NetworkSettings"]["IPAddress"]
        out = d.docker("run", "--rm", "--network", f"container:{a}", "busybox", "sh", "-c",
                       "ip -o -4 addr show eth0 | tr -s ' ' | cut -d' ' -f4; hostname").stdout.split()
        assert out == [f"{ip}/{inspect(d, a)['NetworkSettings']['IPPrefixLen']}", inspect(d, a)["Id"][:12]]
    finally:
        d.docker("rm", "-f", a)


def test_default_bridge(d):
    naming, _ = kernel_names(d.data_root)
    info = json.loads(d.docker("network", "inspect", "bridge").stdout)[0]
    subnet = ipaddress.ip_network(info["IPAM"]["Config"][0]["Subnet"])
    assert info["Driver"] == "bridge" and info["Options"]["com.docker.network.bridge.name"] == naming.default_bridge
    assert not subnet.overlaps(ipaddress.ip_network("172.17.0.0/16"))
    name = uniq("dflt")
    out = d.docker("run", "--name", name, "--dns", "9.9.9.9", "--dns-search", "corp.example", "busybox", "sh", "-c",
                   "cat /etc/resolv.conf; ip -o -4 addr show eth0 | tr -s ' ' | cut -d' ' -f4; ip route").stdout
    try:
        assert "nameserver 9.9.9.9" in out and "search corp.example" in out and "127.0.0.11" not in out
        addr = ipaddress.ip_interface(out.split("\n")[2].strip())
        assert addr.ip in subnet
        assert f"default via {info['IPAM']['Config'][0]['Gateway']} dev eth0" in out
        ns = inspect(d, name)["NetworkSettings"]
        assert list(ns["Networks"]) == ["bridge"] and ns["IPAddress"] == "" and ns["Ports"] == {}
    finally:
        d.docker("rm", name)


@pytest.mark.parametrize("which", CLIS)
def test_user_network_settings_and_etc_files(d, which):
    net, name = uniq("cfg"), uniq("c")
    subnet = f"10.{197 if which == 'docker' else 198}.{os.getpid() % 250}.0/24"
    ip = str(ipaddress.ip_network(subnet)[77])
    cli(d, which, "network", "create", "--subnet", subnet, net)
    try:
        gw = json.loads(d.docker("network", "inspect", "bridge").stdout)[0]["IPAM"]["Config"][0]["Gateway"]
        cid = cli(d, which, "run", "-d", "--name", name, "--network", net, "--ip", ip, "--hostname", "myhost",
                  "--add-host", "db.local:10.1.2.3", "--add-host", "gw:host-gateway", "--dns", "9.9.9.9",
                  "--dns-search", "corp.example", "busybox", "sleep", "60").stdout.strip()
        out = d.docker("exec", name, "sh", "-c", "cat /etc/hosts; echo ==; cat /etc/resolv.conf; echo ==; "
                       "cat /etc/hostname; echo ==; ip -o -4 addr show eth0 | tr -s ' ' | cut -d' ' -f4").stdout
        hosts, resolv, hostname, addr = out.split("==\n")
        assert "10.1.2.3\tdb.local\n" in hosts and f"{gw}\tgw\n" in hosts and f"{ip}\tmyhost\n" in hosts
        assert hosts.startswith("127.0.0.1\tlocalhost\n")
        # the embedded DNS server answers; the --dns servers are its upstreams
        assert "nameserver 127.0.0.11" in resolv and "9.9.9.9" not in resolv and "search corp.example" in resolv
        assert hostname.strip() == "myhost"
        assert addr.strip() == f"{ip}/24"
        ep = inspect(d, name)["NetworkSettings"]["Networks"][net]
        assert ep["IPAddress"] == ip and ep["IPAMConfig"] == {"IPv4Address": ip} and ep["Gateway"]
        assert inspect(d, name)["NetworkSettings"]["IPAddress"] == ""   # only the default bridge's, like docker
        assert cid in json.loads(d.docker("network", "inspect", net).stdout)[0]["Containers"]
        # the address is the container's again after a restart
        cli(d, which, "restart", "-t", "0", name)
        assert inspect(d, name)["NetworkSettings"]["Networks"][net]["IPAddress"] == ip
        # stopped: the network is still listed, its endpoint fields are empty
        cli(d, which, "stop", "-t", "0", name)
        ns = inspect(d, name)["NetworkSettings"]
        assert ns["Networks"][net]["IPAddress"] == "" and ns["Networks"][net]["EndpointID"] == ""
        assert json.loads(d.docker("network", "inspect", net).stdout)[0]["Containers"] == {}
    finally:
        cli(d, which, "rm", "-f", name, check=False)
        cli(d, which, "network", "rm", net, check=False)


def test_mac_address(d):
    # the docker CLI 28 refuses --mac-address against API 1.41 (it puts it per network); dockyard's does not
    mac = "02:11:22:33:44:55"
    name = uniq("mac")
    out = cli(d, "dockyard", "run", "--name", name, "--mac-address", mac, "busybox", "cat",
              "/sys/class/net/eth0/address").stdout.strip()
    try:
        assert out == mac
        assert inspect(d, name)["Config"]["MacAddress"] == mac
    finally:
        d.docker("rm", name)


def test_container_reaches_the_hosts_address(d):
    addr = host_ipv4()
    if addr is None:
        pytest.skip("no default route")
    # the container reaches the host through its gateway (outbound path: NAT towards the host's address)
    name = uniq("out")
    out = d.docker("run", "--rm", "--name", name, "busybox", "sh", "-c",
                   f"ping -c1 -W2 {addr} >/dev/null && echo OK").stdout.strip()
    assert out == "OK"
