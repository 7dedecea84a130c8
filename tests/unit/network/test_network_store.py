import pytest

from dockyard.network import store
from dockyard.network.db import StateDB
from dockyard.network.errors import NotFound
from dockyard.network.model import Endpoint, Network


@pytest.fixture
def db(tmp_path):
    d = StateDB(str(tmp_path / "network.db"))
    yield d
    d.close()


def test_find_network_by_id_name_and_prefix(db):
    with db.write() as tx:
        store.put_network(tx, Network(id="abc1" + "0" * 60, name="front", created=""))
        store.put_network(tx, Network(id="abc2" + "0" * 60, name="back", created=""))
        store.put_network(tx, Network(id="def0" + "0" * 60, name="abc1", created=""))
    with db.read() as tx:
        assert store.find_network(tx, "front").name == "front"
        assert store.find_network(tx, "abc2" + "0" * 60).name == "back"
        assert store.find_network(tx, "abc1").name == "abc1"          # an exact name beats an id prefix
        assert store.find_network(tx, "abc2").name == "back"
        assert store.find_network(tx, "def").name == "abc1"
        with pytest.raises(NotFound, match="ambiguous"):
            store.find_network(tx, "abc")
        with pytest.raises(NotFound, match="network nope not found"):
            store.find_network(tx, "nope")
        with pytest.raises(NotFound):
            store.find_network(tx, "")


def test_endpoints_ports_and_seq(db):
    with db.write() as tx:
        a, b = store.next_seq(tx), store.next_seq(tx)
        store.put_endpoint(tx, Endpoint("e2", "n1", "c1", "x", "10.0.0.3", 24, "10.0.0.1", "02:42:0a:00:00:03", "v2",
                                        seq=b))
        store.put_endpoint(tx, Endpoint("e1", "n2", "c1", "x", "10.1.0.2", 24, "10.1.0.1", "02:42:0a:01:00:02", "v1",
                                        seq=a))
        store.put_port(tx, "tcp/0.0.0.0/80", "c1", {"Key": "tcp/0.0.0.0/80", "EndpointId": "e1"})
        store.put_port(tx, "udp/0.0.0.0/53", "c1", {"Key": "udp/0.0.0.0/53", "EndpointId": "e2"})
    with db.read() as tx:
        assert [e.id for e in store.endpoints(tx, container_id="c1")] == ["e1", "e2"]    # in connection order
        assert [e.id for e in store.endpoints(tx, network_id="n1")] == ["e2"]
    with db.write() as tx:
        assert [p["Key"] for p in store.delete_ports(tx, "c1", "e2")] == ["udp/0.0.0.0/53"]
        assert [p["Key"] for p in store.ports(tx)] == ["tcp/0.0.0.0/80"]
    with pytest.raises(Exception):           # a host port belongs to one binding; the whole change rolls back
        with db.write() as tx:
            store.put_port(tx, "udp/0.0.0.0/53", "c2", {"Key": "udp/0.0.0.0/53"})
            store.put_port(tx, "tcp/0.0.0.0/80", "c2", {"Key": "tcp/0.0.0.0/80"})
    with db.read() as tx:
        assert [p["Key"] for p in store.ports(tx)] == ["tcp/0.0.0.0/80"]
        assert store.ports(tx, "c2") == []
