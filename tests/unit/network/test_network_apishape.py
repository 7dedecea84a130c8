import os

import pytest
import yaml

from dockyard.network import apishape
from dockyard.network.errors import Forbidden, InvalidParameter, NotFound
from dockyard.network.model import Endpoint, Network

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
SWAGGER = os.path.join(os.path.dirname(REPO), "shared", "reference", "moby-api", "v1.41.yaml")


def test_parse_create_full():
    r = apishape.parse_create({
        "Name": "front", "Driver": "bridge", "Internal": True, "Attachable": True, "CheckDuplicate": True,
        "Labels": {"a": "b"},
        "IPAM": {"Driver": "default", "Config": [{"Subnet": "10.9.0.0/24", "IPRange": "10.9.0.128/25",
                                                   "Gateway": "10.9.0.254", "AuxiliaryAddresses": {"r": "10.9.0.2"}}]},
        "Options": {"com.docker.network.bridge.name": "brfront", "com.docker.network.driver.mtu": "1400",
                    "com.docker.network.bridge.enable_icc": "false",
                    "com.docker.network.bridge.enable_ip_masquerade": "0",
                    "com.docker.network.bridge.host_binding_ipv4": "127.0.0.1"}})
    assert (r.name, r.internal, r.attachable, r.labels) == ("front", True, True, {"a": "b"})
    assert (r.subnet, r.ip_range, r.gateway, r.aux) == ("10.9.0.0/24", "10.9.0.128/25", "10.9.0.254", {"r": "10.9.0.2"})
    assert (r.bridge_name, r.mtu, r.icc, r.masquerade, r.host_binding) == ("brfront", 1400, False, False, "127.0.0.1")


def test_parse_create_minimal():
    r = apishape.parse_create({"Name": "n"})
    assert (r.subnet, r.internal, r.icc, r.masquerade, r.mtu, r.host_binding) == (None, False, True, True, None, "")


@pytest.mark.parametrize("body, exc, msg", [
    ([], InvalidParameter, "JSON object"),
    ({}, InvalidParameter, "Name is required"),
    ({"Name": "bad name"}, InvalidParameter, "invalid network name"),
    ({"Name": "-x"}, InvalidParameter, "invalid network name"),
    ({"Name": "bridge"}, Forbidden, "pre-defined"),
    ({"Name": "n", "Driver": "overlay"}, NotFound, 'plugin "overlay" not found'),
    ({"Name": "n", "Driver": "host"}, Forbidden, 'only one instance of "host"'),
    ({"Name": "n", "EnableIPv6": True}, InvalidParameter, "EnableIPv6 is not supported"),
    ({"Name": "n", "Scope": "swarm"}, InvalidParameter, "scope"),
    ({"Name": "n", "Internal": "yes"}, InvalidParameter, "Internal must be a boolean"),
    ({"Name": "n", "Labels": {"a": 1}}, InvalidParameter, "Labels must be an object of strings"),
    ({"Name": "n", "IPAM": {"Driver": "x"}}, NotFound, "IPAM driver"),
    ({"Name": "n", "IPAM": {"Config": [{"Subnet": "10.0.0.0/24"}, {"Subnet": "10.1.0.0/24"}]}}, InvalidParameter,
     "only one"),
    ({"Name": "n", "IPAM": {"Config": [{"Gateway": "10.0.0.1"}]}}, InvalidParameter, "need a Subnet"),
    ({"Name": "n", "IPAM": {"Config": [{"Subnet": 5}]}}, InvalidParameter, "must be a string"),
    ({"Name": "n", "Options": {"com.docker.network.bridge.name": "docker0"}}, InvalidParameter, "docker0"),
    ({"Name": "n", "Options": {"com.docker.network.bridge.name": "too-long-a-name1"}}, InvalidParameter, "bridge"),
    ({"Name": "n", "Options": {"com.docker.network.bridge.name": "a;b"}}, InvalidParameter, "bridge name"),
    ({"Name": "n", "Options": {"com.docker.network.driver.mtu": "20"}}, InvalidParameter, "MTU"),
    ({"Name": "n", "Options": {"com.docker.network.driver.mtu": "x"}}, InvalidParameter, "MTU"),
    ({"Name": "n", "Options": {"com.docker.network.bridge.enable_icc": "maybe"}}, InvalidParameter, "true or false"),
    ({"Name": "n", "Options": {"com.docker.network.bridge.host_binding_ipv4": "x"}}, InvalidParameter, "host_binding"),
])
def test_parse_create_rejects(body, exc, msg):
    with pytest.raises(exc, match=msg):
        apishape.parse_create(body)


def _swagger():
    with open(SWAGGER) as f:
        return yaml.safe_load(f)["definitions"]


def test_inspect_has_swagger_network_fields():
    net = Network(id="ab" * 32, name="front", created="2026-01-01T00:00:00Z", bridge="dy-abab", labels={"x": "y"})
    ep = Endpoint("e" * 64, net.id, "c" * 64, "web", "10.9.0.2", 24, "10.9.0.1", "02:42:0a:09:00:02", "dyveee")
    got = apishape.inspect(net, {"Subnet": "10.9.0.0/24", "Gateway": "10.9.0.1"}, [ep])
    spec = _swagger()
    assert set(got) == set(spec["Network"]["properties"]) - {"Peers"}
    assert set(got["IPAM"]) == set(spec["IPAM"]["properties"])
    assert got["Containers"] == {"c" * 64: {"Name": "web", "EndpointID": "e" * 64, "MacAddress": "02:42:0a:09:00:02",
                                            "IPv4Address": "10.9.0.2/24", "IPv6Address": ""}}
    assert set(got["Containers"]["c" * 64]) == set(spec["NetworkContainer"]["properties"])


def test_endpoint_settings_shape():
    net = Network(id="ab" * 32, name="front", created="", bridge="dy-abab")
    ep = Endpoint("e" * 64, net.id, "c" * 64, "web", "10.9.0.2", 24, "10.9.0.1", "02:42:0a:09:00:02", "dyveee",
                  aliases=["www"], user_ip=True)
    got = apishape.endpoint_settings(ep, net)
    spec = _swagger()["EndpointSettings"]["properties"]
    assert set(got) - {"DNSNames"} == set(spec)
    assert got["IPAMConfig"] == {"IPv4Address": "10.9.0.2"} and got["Aliases"] == ["www"]
    assert got["DNSNames"] == ["web", "www", "cccccccccccc"]
    assert (got["IPAddress"], got["IPPrefixLen"], got["Gateway"]) == ("10.9.0.2", 24, "10.9.0.1")
    assert got["NetworkID"] == net.id
