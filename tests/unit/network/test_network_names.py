import pytest

from dockyard.network.dnsindex import DnsIndex
from dockyard.network.errors import InvalidParameter
from dockyard.network.etcfiles import hosts_file, resolv_conf
from dockyard.network.names import Naming, check_mac, mac_for


def test_naming_fits_ifnamsiz():
    n = Naming()
    assert n.bridge("0123456789abcdef" * 4) == "dy-0123456789ab"
    assert n.veth("fedcba9876543210" * 4) == "dyvfedcba987654"
    assert n.is_bridge("dy-0123456789ab") and not n.is_bridge("dy-0123") and not n.is_bridge("docker0")
    assert n.is_veth("dyvfedcba987654") and not n.is_veth("dy-0123456789ab")
    assert not n.is_bridge("dy-0123456789AB")


@pytest.mark.parametrize("kw", [{"default_bridge": "x" * 16}, {"bridge_prefix": "dyv", "veth_prefix": "dyv"},
                                {"bridge_prefix": ""}, {"veth_prefix": "toolong"}, {"bridge_prefix": "a b"}])
def test_naming_rejects(kw):
    with pytest.raises(InvalidParameter):
        Naming(**kw)


def test_macs():
    assert mac_for("172.17.0.2") == "02:42:ac:11:00:02"
    assert check_mac("02:42:AC:11:00:02") == "02:42:ac:11:00:02"
    for bad in ("01:00:5e:00:00:01", "00:00:00:00:00:00", "02:42:ac:11:00", "zz:42:ac:11:00:02"):
        with pytest.raises(InvalidParameter):
            check_mac(bad)


HOST = "search corp.example\nnameserver 127.0.0.53\nnameserver 10.0.0.2\nnameserver fd00::1\noptions edns0\n"


def test_resolv_conf_user_network():
    assert resolv_conf(HOST, True) == "search corp.example\nnameserver 127.0.0.11\noptions edns0 ndots:0\n"
    assert resolv_conf(HOST, True, dns=["1.1.1.1"], search=["a.b"], options=["ndots:2"]) == \
        "search a.b\nnameserver 127.0.0.11\noptions ndots:2\n"


def test_resolv_conf_default_bridge():
    assert resolv_conf(HOST, False) == "search corp.example\nnameserver 10.0.0.2\noptions edns0\n"
    assert resolv_conf("nameserver 127.0.0.53\n", False) == "nameserver 8.8.8.8\nnameserver 8.8.4.4\n"
    assert resolv_conf(HOST, False, dns=["1.1.1.1"]) == "search corp.example\nnameserver 1.1.1.1\noptions edns0\n"


def test_hosts_file():
    out = hosts_file("web", ["10.1.0.2"], [("db", "10.1.0.3")])
    assert out.startswith("127.0.0.1\tlocalhost\n")
    assert out.endswith("10.1.0.3\tdb\n10.1.0.2\tweb\n")


def test_empty_index():
    assert DnsIndex().lookup("c", "web") is None and DnsIndex().reverse_lookup("c", "10.0.0.1") is None


def test_dns_names():
    from dockyard.network.names import check_dns_name
    assert check_dns_name("web.front_1") == "web.front_1"
    for bad in ("", "a..b", "-x", "x" * 64, "é", "a b", ".", "a/b"):
        with pytest.raises(InvalidParameter):
            check_dns_name(bad)


def test_service_refuses_event_loop_thread():
    import asyncio

    from dockyard.network import netlink

    async def inside():
        with netlink.host():
            pass

    with pytest.raises(RuntimeError, match="worker thread"):
        asyncio.run(inside())
