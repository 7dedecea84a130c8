"""The daemon's networking glue without the kernel: create-time checks and the endpoint plan,
NetworkSettings shapes, kernel names per data root, --bip, the default subnet choice, /networks
filters, and the CLI's IPAM consolidation and ``network ls`` fields."""
import ipaddress
import os

import pytest

from dockyard.cli.commands.network_create import consolidate_ipam
from dockyard.cli.commands.network_ls import NetworkContext, go_time, network_format
from dockyard.cli.errors import CLIError
from dockyard.daemon.containers import networking_host as nh
from dockyard.daemon.containers import networking_request as nreq
from dockyard.daemon.containers import networking_settings as nset
from dockyard.daemon.containers.specgen_request import parse_request
from dockyard.daemon.http import ApiError
from dockyard.daemon.routes.networks import filter_networks, go_order

NETS = {
    "bridge": {"Name": "bridge", "Id": "b" * 64, "Driver": "bridge", "_user_subnet": False, "Internal": False,
               "IPAM": {"Config": [{"Subnet": "10.210.0.0/16", "Gateway": "10.210.0.1"}]}},
    "host": {"Name": "host", "Id": "h" * 64, "Driver": "host", "IPAM": {"Config": []}},
    "none": {"Name": "none", "Id": "n" * 64, "Driver": "null", "IPAM": {"Config": []}},
    "user": {"Name": "user", "Id": "u" * 64, "Driver": "bridge", "_user_subnet": True, "Internal": False,
             "IPAM": {"Config": [{"Subnet": "10.5.0.0/24", "Gateway": "10.5.0.1", "IPRange": "10.5.0.128/25"}]}},
    "auto": {"Name": "auto", "Id": "a" * 64, "Driver": "bridge", "_user_subnet": False, "Internal": False,
             "IPAM": {"Config": [{"Subnet": "10.212.0.0/20", "Gateway": "10.212.0.1"}]}},
}


def find(ref):
    for n in NETS.values():
        if ref in (n["Name"], n["Id"]):
            return n
    raise ApiError(404, f"network {ref} not found")


def plan(body):
    return nreq.plan(parse_request(dict({"Image": "busybox"}, **body)), find, lambda ref: None, "10.210.0.1")


def err(body) -> str:
    with pytest.raises(ApiError) as e:
        plan(body)
    assert e.value.status in (400, 404)
    return e.value.message


# ---- the create request ------------------------------------------------------------------------------

def test_modes():
    assert nreq.mode_of("default") == nreq.mode_of("") == nreq.mode_of(None) == "bridge"
    assert nreq.mode_of("user", network_disabled=True) == "none"
    assert [nreq.kind_of(m) for m in ("host", "none", "container:x", "bridge", "user")] == \
        ["host", "none", "container", "network", "network"]


def test_plan_default_and_user_networks():
    assert plan({}) == [{"Network": "bridge", "NetworkID": "b" * 64, "IPv4Address": "", "Aliases": [],
                         "MacAddress": ""}]
    p = plan({"HostConfig": {"NetworkMode": "user"}, "MacAddress": "02:00:00:00:00:AA",
              "NetworkingConfig": {"EndpointsConfig": {"user": {"IPAMConfig": {"IPv4Address": "10.5.0.9"},
                                                                "Aliases": ["db", "db.local"]}}}})
    assert p == [{"Network": "user", "NetworkID": "u" * 64, "IPv4Address": "10.5.0.9", "Aliases": ["db", "db.local"],
                  "MacAddress": "02:00:00:00:00:aa"}]
    # an address outside the ip-range but inside the subnet is allowed (as a static address)
    assert plan({"HostConfig": {"NetworkMode": "user"},
                 "NetworkingConfig": {"EndpointsConfig": {"user": {"IPAMConfig": {"IPv4Address": "10.5.0.9"}}}}})
    # "default" as the endpoint's key (what the CLIs send)
    assert plan({"NetworkingConfig": {"EndpointsConfig": {"default": {}}}})[0]["Network"] == "bridge"
    for mode in ("host", "none"):
        assert plan({"HostConfig": {"NetworkMode": mode}}) == []
    assert plan({"HostConfig": {"NetworkMode": "container:abc"}}) == []


@pytest.mark.parametrize("body, message", [
    ({"HostConfig": {"NetworkMode": "nope"}}, "network nope not found"),
    ({"HostConfig": {"NetworkMode": "user"}, "NetworkingConfig": {"EndpointsConfig": {
        "user": {"IPAMConfig": {"IPv4Address": "10.6.0.9"}}}}}, "no configured subnet or ip-range contain"),
    ({"HostConfig": {"NetworkMode": "user"}, "NetworkingConfig": {"EndpointsConfig": {
        "user": {"IPAMConfig": {"IPv4Address": "10.5.0.1"}}}}}, "in use by the gateway"),
    ({"HostConfig": {"NetworkMode": "user"}, "NetworkingConfig": {"EndpointsConfig": {
        "user": {"IPAMConfig": {"IPv4Address": "10.5.0.300"}}}}}, "invalid IPv4 address"),
    ({"NetworkingConfig": {"EndpointsConfig": {"bridge": {"IPAMConfig": {"IPv4Address": "10.210.0.9"}}}}},
     "user defined networks only"),
    ({"HostConfig": {"NetworkMode": "auto"}, "NetworkingConfig": {"EndpointsConfig": {
        "auto": {"IPAMConfig": {"IPv4Address": "10.212.0.9"}}}}}, "user configured subnets"),
    ({"NetworkingConfig": {"EndpointsConfig": {"bridge": {"Aliases": ["x"]}}}}, "user defined networks"),
    ({"HostConfig": {"NetworkMode": "user"}, "NetworkingConfig": {"EndpointsConfig": {
        "user": {"Aliases": ["-bad alias"]}}}}, "invalid network alias"),
    ({"HostConfig": {"NetworkMode": "user"}, "NetworkingConfig": {"EndpointsConfig": {
        "user": {"IPAMConfig": {"IPv6Address": "fd00::1"}}}}}, "IPv6"),
    ({"NetworkingConfig": {"EndpointsConfig": {"bridge": {}, "user": {}}}}, "cannot be connected to network endpoints"),
    ({"HostConfig": {"NetworkMode": "user"}, "NetworkingConfig": {"EndpointsConfig": {"auto": {}}}},
     "cannot be connected to network endpoints"),
    ({"HostConfig": {"NetworkMode": "host"}, "MacAddress": "02:00:00:00:00:01"}, "mac-address and the network mode"),
    ({"HostConfig": {"NetworkMode": "container:x", "PortBindings": {"80/tcp": [{}]}}}, "port publishing"),
    ({"HostConfig": {"NetworkMode": "container:x"}, "ExposedPorts": {"80/tcp": {}}}, "port exposing"),
    ({"HostConfig": {"NetworkMode": "container:x", "Dns": ["1.1.1.1"]}}, "dns and the network mode"),
    ({"HostConfig": {"NetworkMode": "container:x", "ExtraHosts": ["a:1.2.3.4"]}}, "host-to-IP mapping"),
    ({"HostConfig": {"NetworkMode": "container:"}}, "needs a container name"),
    ({"HostConfig": {"NetworkMode": "host"}, "NetworkingConfig": {"EndpointsConfig": {"user": {}}}},
     "cannot be connected to network endpoints"),
    ({"MacAddress": "01:00:00:00:00:01"}, "multicast"),
    ({"HostConfig": {"Dns": ["nope"]}}, "nope is not an ip address"),
    ({"HostConfig": {"ExtraHosts": ["nocolon"]}}, "bad format for add-host"),
    ({"HostConfig": {"ExtraHosts": ["a:notanip"]}}, "invalid IP address in add-host"),
    ({"HostConfig": {"Links": ["other:alias"]}}, "links"),
    ({"HostConfig": {"PortBindings": {"80/tcp": [{"HostPort": "70000"}]}}}, "host port"),
    ({"HostConfig": {"PortBindings": {"80/sctp": [{}]}}}, "protocol"),
    ({"HostConfig": {"PortBindings": {"80/tcp": [{"HostIp": "nope"}]}}}, "invalid host IP"),
    ({"HostConfig": {"PortBindings": {"80/tcp": "8080"}}}, "must be a list"),
    ({"ExposedPorts": {"x/tcp": {}}}, "invalid container port"),
    ({"NetworkingConfig": {"EndpointsConfig": ["bridge"]}}, "EndpointsConfig"),
])
def test_bad_requests(body, message):
    assert message in err(body)


def test_host_gateway_in_add_host():
    assert plan({"HostConfig": {"ExtraHosts": ["gw:host-gateway"]}})
    with pytest.raises(ApiError, match="host-gateway"):
        nreq.plan(parse_request({"Image": "b", "HostConfig": {"ExtraHosts": ["gw:host-gateway"]}}), find,
                  lambda r: None, "")


# ---- NetworkSettings -------------------------------------------------------------------------------------

def test_settings_lifecycle():
    entry = {"Network": "user", "NetworkID": "u" * 64, "IPv4Address": "10.5.0.9", "Aliases": ["db"],
             "MacAddress": ""}
    ns = {"Ports": {}, "Networks": nset.planned_networks([entry])}
    planned = ns["Networks"]["user"]
    assert planned["IPAMConfig"] == {"IPv4Address": "10.5.0.9"} and planned["Aliases"] == ["db"]
    assert planned["NetworkID"] == "u" * 64 and planned["IPAddress"] == "" and planned["EndpointID"] == ""
    ep = dict(planned, EndpointID="e1", Gateway="10.5.0.1", IPAddress="10.5.0.9", IPPrefixLen=24,
              MacAddress="02:42:0a:05:00:09")
    nset.set_running(ns, {"user": ep}, {"80/tcp": None}, "/proc/1/ns/net", "s" * 64)
    assert ns["IPAddress"] == "" and ns["Networks"]["user"]["IPAddress"] == "10.5.0.9"   # only the default bridge's
    assert ns["SandboxKey"] == "/proc/1/ns/net" and ns["Ports"] == {"80/tcp": None}
    br = dict(ep, EndpointID="e2", IPAddress="10.210.0.5", Gateway="10.210.0.1", IPPrefixLen=16, MacAddress="m")
    nset.set_running(ns, {"bridge": br}, {}, "/proc/1/ns/net", "s" * 64)
    assert (ns["IPAddress"], ns["Gateway"], ns["IPPrefixLen"], ns["MacAddress"], ns["EndpointID"]) == \
        ("10.210.0.5", "10.210.0.1", 16, "m", "e2")
    nset.set_stopped(ns)
    assert ns["IPAddress"] == "" and ns["Ports"] == {} and ns["SandboxKey"] == ""
    assert list(ns["Networks"]) == ["bridge"] and ns["Networks"]["bridge"]["IPAddress"] == ""
    assert ns["Networks"]["bridge"]["NetworkID"] == "u" * 64


def test_ports_with_exposed():
    pub = {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "1234"}]}
    assert nset.ports_with_exposed(pub, ["80/tcp", "90/udp", "91", "100-110/tcp"]) == \
        {"80/tcp": pub["80/tcp"], "90/udp": None, "91/tcp": None}


def test_write_in_place_keeps_the_inode(tmp_path):
    p = tmp_path / "hosts"
    p.write_text("a long old content\n" * 10)
    ino = os.stat(p).st_ino
    nset.write_in_place(str(p), "new\n")
    assert p.read_text() == "new\n" and os.stat(p).st_ino == ino
    nset.write_in_place(str(tmp_path / "fresh"), "x")
    assert (tmp_path / "fresh").read_text() == "x"


# ---- host-wide names and subnets ---------------------------------------------------------------------

def test_kernel_names_per_data_root():
    n0, t0 = nh.kernel_names("/var/lib/dockyard")
    assert (n0.default_bridge, n0.bridge_prefix, n0.veth_prefix, t0.filter, t0.nat) == \
        ("dyd0", "dy-", "dyv", "dockyard", "dockyard-nat")
    a, ta = nh.kernel_names("/tmp/a/data")
    b, tb = nh.kernel_names("/tmp/b/data")
    assert a != b and ta != tb and a == nh.kernel_names("/tmp/a/data")[0]
    for n in (a, b):
        assert len(n.default_bridge) <= 15 and not n0.is_veth(n.veth("f" * 64)) and not n0.is_bridge(n.bridge("f" * 64))
    assert not a.is_veth(b.veth("f" * 64)) or a.veth_prefix == b.veth_prefix
    assert nh.kernel_names("/tmp/a/data", bridge="mybr0")[0].default_bridge == "mybr0"
    with pytest.raises(nh.NetworkSetupError, match="--bridge"):
        nh.kernel_names("/tmp/a/data", bridge="way-too-long-bridge-name")


def test_parse_bip():
    assert nh.parse_bip("10.20.0.1/16") == "10.20.0.0/16"
    assert nh.parse_bip("192.168.7.0/24") == "192.168.7.0/24"
    for bad, message in (("10.20.0.5/16", "first address"), ("10.20.0.1", "prefix"), ("x", "IPv4 address"),
                         ("fd00::1/64", "IPv4"), ("10.0.0.1/31", "8 to 30")):
        with pytest.raises(nh.NetworkSetupError, match=message):
            nh.parse_bip(bad)


def test_choose_default_subnet():
    assert nh.choose_default_subnet("/var/lib/dockyard", []) == "10.210.0.0/16"
    mine = nh.choose_default_subnet("/tmp/x/data", [])
    assert ipaddress.ip_network(mine).subnet_of(ipaddress.ip_network("10.211.0.0/16"))
    assert nh.choose_default_subnet("/tmp/x/data", []) == mine
    taken = [ipaddress.ip_network("10.210.0.0/16"), ipaddress.ip_network(mine)]
    other = nh.choose_default_subnet("/tmp/x/data", taken)
    assert not any(ipaddress.ip_network(other).overlaps(t) for t in taken)
    assert nh.choose_default_subnet("/var/lib/dockyard", taken) != "10.210.0.0/16"


def test_collect_orphans_keeps_live_daemons(tmp_path, monkeypatch):
    monkeypatch.setattr(nh, "REGISTRY_DIR", str(tmp_path / "reg"))
    live = tmp_path / "live"
    (live / "network").mkdir(parents=True)
    naming, tables = nh.kernel_names(str(live))
    nh.register(str(live), naming, tables)
    assert nh.collect_orphans() == []          # its state exists: nothing is touched
    assert os.listdir(tmp_path / "reg")
    (tmp_path / "reg" / "junk.json").write_text("{not json")
    assert nh.collect_orphans() == []          # unreadable entries are skipped


# ---- /networks filters -------------------------------------------------------------------------------

def _net(name, driver="bridge", labels=None, containers=None):
    return {"Name": name, "Id": (name * 64)[:64], "Driver": driver, "Scope": "local", "Labels": labels or {},
            "Containers": containers or {}}


def test_filter_networks():
    nets = [_net("bridge"), _net("host", "host"), _net("none", "null"), _net("front", labels={"team": "a"}),
            _net("back", labels={"team": "b", "x": ""}, containers={"c": {}})]
    names = lambda f: [n["Name"] for n in filter_networks(nets, f)]  # noqa: E731
    assert names({"name": ["ro"]}) == ["front"]
    assert names({"name": ["^b"]}) == ["bridge", "back"]
    assert names({"driver": ["null", "host"]}) == ["host", "none"]
    assert names({"label": ["team=a"]}) == ["front"] and names({"label": ["x"]}) == ["back"]
    assert names({"type": ["custom"]}) == ["front", "back"] and names({"type": ["builtin"]}) == ["bridge", "host",
                                                                                                "none"]
    assert names({"dangling": ["true"]}) == ["front"]
    assert names({"dangling": ["false"]}) == ["bridge", "host", "none", "back"]
    assert names({"id": ["fro"]}) == ["front"]
    for bad in ({"bogus": ["1"]}, {"dangling": ["maybe"]}, {"type": ["other"]}):
        with pytest.raises(ApiError):
            filter_networks(nets, bad)


def test_go_order():
    n = go_order({"IPAM": {"Config": [{"Gateway": "g", "Subnet": "s", "IPRange": "r"}]}})
    assert list(n["IPAM"]["Config"][0]) == ["Subnet", "IPRange", "Gateway"]


# ---- CLI ---------------------------------------------------------------------------------------------

def test_consolidate_ipam():
    assert consolidate_ipam(["10.1.0.0/16"], ["10.1.2.0/24"], ["10.1.0.254"], {"a": "10.1.0.3"}) == \
        [{"Subnet": "10.1.0.0/16", "AuxiliaryAddresses": {"a": "10.1.0.3"}, "IPRange": "10.1.2.0/24",
          "Gateway": "10.1.0.254"}]
    assert consolidate_ipam(["bad"], [], [], {}) == [{"Subnet": "bad", "AuxiliaryAddresses": {}}]
    for args, message in (((["10.1.0.0/16", "10.1.2.0/24"], [], [], {}), "overlapping"),
                          ((["10.1.0.0/16"], ["10.2.0.0/24"], [], {}), "no matching subnet for range"),
                          ((["10.1.0.0/16", "10.2.0.0/16"], [], ["10.1.0.1", "10.1.0.2"], {}), "multiple gateways"),
                          ((["10.1.0.0/16"], [], [], {"a": "10.9.0.1"}), "aux-address"),
                          (([], ["10.1.0.0/24"], [], {}), "corresponding subnet")):
        with pytest.raises(CLIError, match=message):
            consolidate_ipam(*args)


def test_network_ls_fields():
    n = {"Id": "0123456789abcdef" * 4, "Name": "x", "Driver": "bridge", "Scope": "local", "Internal": True,
         "Labels": {"a": "b"}, "Created": "2026-11-27T19:49:42.739117000Z"}
    c = NetworkContext(n)
    assert c.ID() == "0123456789ab" and NetworkContext(n, False).ID() == n["Id"]
    assert (c.Internal(), c.IPv6(), c.IPv4(), c.Labels(), c.Label("a")) == ("true", "false", "false", "a=b", "b")
    assert go_time(n["Created"]) == "2026-11-27 19:49:42.739117 +0000 UTC"
    assert go_time("2026-11-27T19:49:42Z") == "2026-11-27 19:49:42 +0000 UTC"
    assert network_format("table", True) == "{{.ID}}" and "{{.Scope}}" in network_format("table", False)
