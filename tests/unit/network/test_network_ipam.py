import ipaddress

import pytest

from dockyard.network.db import StateDB
from dockyard.network.errors import Conflict, InvalidParameter, NotFound, PoolExhausted
from dockyard.network.ipam import IPAM, make_pool, pick_subnet


@pytest.fixture
def db(tmp_path):
    d = StateDB(str(tmp_path / "network.db"))
    yield d
    d.close()


def test_make_pool_defaults_and_config():
    p = make_pool("10.5.0.0/24")
    assert str(p.gateway) == "10.5.0.1" and p.ip_range == p.subnet and p.prefixlen == 24
    assert p.config() == {"Subnet": "10.5.0.0/24", "Gateway": "10.5.0.1"}
    p = make_pool("10.5.0.0/16", gateway="10.5.255.254", ip_range="10.5.1.0/24")
    assert p.config() == {"Subnet": "10.5.0.0/16", "Gateway": "10.5.255.254", "IPRange": "10.5.1.0/24"}


@pytest.mark.parametrize("kw, msg", [
    ({"subnet": "10.5.0.1/24"}, "it should be 10.5.0.0/24"),
    ({"subnet": "nonsense"}, "invalid subnet"),
    ({"subnet": "fd00::/64"}, "only IPv4"),
    ({"subnet": "10.5.0.0/31"}, "prefix length"),
    ({"subnet": "10.0.0.0/7"}, "prefix length"),
    ({"subnet": "10.5.0.0/24", "gateway": "10.6.0.1"}, "not inside subnet"),
    ({"subnet": "10.5.0.0/24", "gateway": "10.5.0.255"}, "broadcast"),
    ({"subnet": "10.5.0.0/24", "gateway": "10.5.0.0"}, "network or broadcast"),
    ({"subnet": "10.5.0.0/24", "ip_range": "10.6.0.0/25"}, "not inside subnet"),
    ({"subnet": "10.5.0.0/24", "ip_range": "10.5.0.0/23"}, "not inside subnet"),
])
def test_make_pool_rejects(kw, msg):
    with pytest.raises(InvalidParameter, match=msg):
        make_pool(**kw)


def _pool(db, ipam, nid="n1", label="net1", subnet="10.5.0.0/24", **kw):
    with db.write() as tx:
        ipam.add_pool(tx, nid, label, make_pool(subnet, **{k: v for k, v in kw.items() if k != "aux"}), kw.get("aux"))


def test_allocate_next_skips_gateway_and_never_twice(db):
    ipam = IPAM()
    _pool(db, ipam)
    with db.write() as tx:
        a = [str(ipam.allocate(tx, "n1", f"e{i}")) for i in range(3)]
    assert a == ["10.5.0.2", "10.5.0.3", "10.5.0.4"]
    with db.write() as tx:
        with pytest.raises(Conflict, match="10.5.0.3 is already in use by another endpoint on network net1"):
            ipam.allocate(tx, "n1", "x", "10.5.0.3")
        with pytest.raises(Conflict, match="in use by the gateway"):
            ipam.allocate(tx, "n1", "x", "10.5.0.1")


def test_released_address_not_reused_at_once_and_cursor_persists(db, tmp_path):
    ipam = IPAM()
    _pool(db, ipam)
    with db.write() as tx:
        first = ipam.allocate(tx, "n1", "a")
        ipam.release(tx, "n1", first)
        second = ipam.allocate(tx, "n1", "b")
    assert first != second
    db.close()
    again = StateDB(str(tmp_path / "network.db"))   # a daemon restart
    try:
        with again.write() as tx:
            third = ipam.allocate(tx, "n1", "c")
            assert third not in (first, second)
            assert ipam.allocations(tx, "n1") == {"10.5.0.1": "gateway", str(second): "b", str(third): "c"}
    finally:
        again.close()


def test_specific_address_rules(db):
    ipam = IPAM()
    _pool(db, ipam, ip_range="10.5.0.128/25")
    with db.write() as tx:
        assert str(ipam.allocate(tx, "n1", "a")) == "10.5.0.128"
        # a specific address may lie outside the ip-range but not outside the subnet
        assert str(ipam.allocate(tx, "n1", "b", "10.5.0.7")) == "10.5.0.7"
        with pytest.raises(InvalidParameter, match="not inside subnet 10.5.0.0/24 of network net1"):
            ipam.allocate(tx, "n1", "c", "10.5.1.7")
        with pytest.raises(InvalidParameter, match="network or broadcast"):
            ipam.allocate(tx, "n1", "c", "10.5.0.255")
        with pytest.raises(InvalidParameter, match="invalid IP address"):
            ipam.allocate(tx, "n1", "c", "10.5.0.x")


def test_exhaustion(db):
    ipam = IPAM()
    _pool(db, ipam, subnet="10.5.0.0/30")   # .1 gateway, .2 the only address
    with db.write() as tx:
        assert str(ipam.allocate(tx, "n1", "a")) == "10.5.0.2"
    with db.write() as tx:
        with pytest.raises(PoolExhausted, match="no available IPv4 addresses on network net1"):
            ipam.allocate(tx, "n1", "b")


def test_overlap_refused_and_rolled_back(db):
    ipam = IPAM()
    _pool(db, ipam)
    with pytest.raises(Conflict, match="subnet 10.5.0.0/16 overlaps with subnet 10.5.0.0/24 of network net1"):
        _pool(db, ipam, nid="n2", label="net2", subnet="10.5.0.0/16")
    with db.read() as tx:
        assert [str(s) for s in ipam.subnets(tx)] == ["10.5.0.0/24"]
        with pytest.raises(NotFound):
            ipam.pool(tx, "n2")


def test_aux_addresses_reserved(db):
    ipam = IPAM()
    _pool(db, ipam, aux={"router": "10.5.0.2"})
    with db.write() as tx:
        assert str(ipam.allocate(tx, "n1", "a")) == "10.5.0.3"
    with pytest.raises(InvalidParameter, match="auxiliary address r2=10.9.0.2 is not inside"):
        _pool(db, ipam, nid="n2", label="x", subnet="10.6.0.0/24", aux={"r2": "10.9.0.2"})


def test_remove_pool_and_release_errors(db):
    ipam = IPAM()
    _pool(db, ipam)
    with db.write() as tx:
        with pytest.raises(NotFound):
            ipam.release(tx, "n1", "10.5.0.9")
        with pytest.raises(NotFound):      # the gateway cannot be released
            ipam.release(tx, "n1", "10.5.0.1")
        ipam.remove_pool(tx, "n1")
        assert ipam.allocations(tx, "n1") == {}
        with pytest.raises(NotFound):
            ipam.allocate(tx, "n1", "a")


def test_pick_subnet_avoids_used_and_routes():
    bases = [("10.212.0.0/22", 24)]
    got = pick_subnet(bases, used=["10.212.0.0/24"], avoid=[ipaddress.ip_network("10.212.1.128/25")])
    assert str(got) == "10.212.2.0/24"
    with pytest.raises(PoolExhausted):
        pick_subnet(bases, used=["10.212.0.0/22"])
    with pytest.raises(InvalidParameter):
        pick_subnet([("10.0.0.0/16", 8)], used=[])
