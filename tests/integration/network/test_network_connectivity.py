"""Bridge networks on the real kernel: names, addresses, isolation, internal networks, NAT."""
import json
import secrets

import pytest

from dockyard.network.errors import Conflict, Forbidden, InvalidParameter, NotFound

pytestmark = pytest.mark.root


def _join(env, svc, net, name, **kw):
    ns = env.container()
    cid = "c" + secrets.token_hex(32)[1:]
    ep = svc.connect(cid, ns.path, net, name=name, **kw)
    ns.set_resolv_conf(svc.resolv_conf(net))
    return ns, cid, ep


def test_two_containers_reach_each_other_by_name_and_ip(env):
    svc = env.service()
    svc.create({"Name": "front"})
    web, web_id, web_ep = _join(env, svc, "front", "web", aliases=["www"])
    db, _, db_ep = _join(env, svc, "front", "db")
    assert web_ep["Gateway"] == db_ep["Gateway"] and web_ep["IPAddress"] != db_ep["IPAddress"]
    # DNS: container names, aliases, short ids, name.network
    assert web.probe("resolve", "db").stdout.split() == [db_ep["IPAddress"]]
    assert db.probe("resolve", "www").stdout.split() == [web_ep["IPAddress"]]
    assert db.probe("resolve", web_id[:12]).stdout.split() == [web_ep["IPAddress"]]
    assert db.probe("resolve", "web.front").stdout.split() == [web_ep["IPAddress"]]
    # ping by name and by address
    assert web.ping("db") and db.ping(web_ep["IPAddress"])
    # TCP by name; the server sees the client's own address (no NAT inside a network)
    env.serve(db, "tcp", 7000, "pong")
    assert web.probe("tcp", "db", "7000").stdout.strip() == f"pong {web_ep['IPAddress']}"
    info = svc.inspect("front")
    assert {c["Name"] for c in info["Containers"].values()} == {"web", "db"}
    assert svc.endpoints(web_id)["front"]["Aliases"] == ["www"]


def test_other_network_cannot_reach(env):
    svc = env.service()
    svc.create({"Name": "a"})
    svc.create({"Name": "b"})
    a1, _, a1_ep = _join(env, svc, "a", "a1")
    b1, _, b1_ep = _join(env, svc, "b", "b1")
    env.serve(a1, "tcp", 7000)
    assert b1.ping(b1_ep["Gateway"])                       # its own network works
    assert a1.probe("tcp", a1_ep["IPAddress"], "7000").returncode == 0
    assert b1.unreachable(a1_ep["IPAddress"], 7000)
    assert b1.probe("resolve", "a1").returncode != 0        # a's names are not b's
    # the default bridge is isolated from user networks too
    d, _, _ = _join(env, svc, "bridge", "d1")
    assert d.unreachable(a1_ep["IPAddress"], 7000)


def test_internal_network_has_no_way_out_and_others_are_masqueraded(env):
    out, out_host, out_ip = env.outside()
    env.serve(out, "tcp", 7100, "outside")
    svc = env.service()
    svc.create({"Name": "sealed", "Internal": True})
    svc.create({"Name": "open"})
    sealed, _, sealed_ep = _join(env, svc, "sealed", "s1")
    opened, _, open_ep = _join(env, svc, "open", "o1")
    routes = json.loads(sealed.run("ip", "-j", "-4", "route", check=True).stdout)
    assert [r for r in routes if r["dst"] == "default"] == []
    assert sealed.unreachable(out_ip, 7100)
    # on a normal network the outside sees the host's address (masquerade), not the container's
    assert opened.probe("tcp", out_ip, "7100").stdout.strip() == f"outside {out_host}"
    assert sealed.ping(sealed_ep["Gateway"]) and opened.ping(open_ep["Gateway"])


def test_ip_mac_mtu_and_default_bridge(env):
    svc = env.service()
    ipam = {"Config": [{"Subnet": env.subnet(5), "IPRange": env.subnet(5)[:-4] + "128/25"}]}
    svc.create({"Name": "fixed", "IPAM": ipam, "Options": {"com.docker.network.driver.mtu": "1400"}})
    want_ip = env.subnet(5)[:-4] + "10"
    ns, cid, ep = _join(env, svc, "fixed", "f1", ip=want_ip, mac="02:aa:bb:cc:dd:ee")
    assert (ep["IPAddress"], ep["MacAddress"]) == (want_ip, "02:aa:bb:cc:dd:ee")
    assert ep["IPAMConfig"] == {"IPv4Address": want_ip}
    link = json.loads(ns.run("ip", "-j", "addr", "show", "eth0", check=True).stdout)[0]
    assert (link["address"], link["mtu"]) == ("02:aa:bb:cc:dd:ee", 1400)
    assert [(a["local"], a["prefixlen"]) for a in link["addr_info"] if a["family"] == "inet"] == [(want_ip, 24)]
    _, _, auto = _join(env, svc, "fixed", "f2")
    assert auto["IPAddress"] == env.subnet(5)[:-4] + "128"
    with pytest.raises(Conflict, match="already in use"):
        _join(env, svc, "fixed", "f3", ip=want_ip)
    with pytest.raises(InvalidParameter, match="not inside subnet"):
        _join(env, svc, "fixed", "f4", ip="10.1.2.3")
    # the default bridge: addresses from its subnet, no --ip, no aliases, no embedded DNS
    d, _, dep = _join(env, svc, "bridge", "d1")
    assert dep["IPAddress"].startswith(f"10.{env.octet}.0.") and dep["DNSNames"] is None
    assert "127.0.0.11" not in svc.resolv_conf("bridge")
    with pytest.raises(InvalidParameter, match="user configured subnets"):
        _join(env, svc, "bridge", "d2", ip=f"10.{env.octet}.0.77")
    with pytest.raises(InvalidParameter, match="alias"):
        _join(env, svc, "bridge", "d3", aliases=["x"])
    assert d.ping(dep["Gateway"])


def test_bad_requests_leave_nothing(env):
    _, out_host, _ = env.outside()
    svc = env.service()
    svc.create({"Name": "one", "IPAM": {"Config": [{"Subnet": env.subnet(1)}]}})
    before = env_links()
    with pytest.raises(Conflict, match=f"overlaps with subnet {env.subnet(1)} of network one"):
        svc.create({"Name": "two", "IPAM": {"Config": [{"Subnet": f"10.{env.octet}.1.128/25"}]}})
    with pytest.raises(Conflict, match="already exists"):
        svc.create({"Name": "one"})
    o = env.octet
    with pytest.raises(Conflict, match=f"subnet 10.{o}.0.0/23 overlaps with subnet 10.{o}.0.0/24 of network bridge"):
        svc.create({"Name": "three", "IPAM": {"Config": [{"Subnet": f"10.{env.octet}.0.0/23"}]}})
    host_net = out_host.rsplit(".", 1)[0] + ".0/24"
    with pytest.raises(Conflict, match="overlaps with the host route " + out_host[:-1] + "0/30"):
        svc.create({"Name": "three", "IPAM": {"Config": [{"Subnet": host_net}]}})
    with pytest.raises(Conflict, match="already in use"):
        svc.create({"Name": "four", "Options": {"com.docker.network.bridge.name": "lo"}})
    assert env_links() == before
    assert sorted(n["Name"] for n in svc.list()) == ["bridge", "host", "none", "one"]
    ns, cid, _ = _join(env, svc, "one", "c1")
    with pytest.raises(Forbidden, match="has active endpoints"):
        svc.remove("one")
    with pytest.raises(Forbidden, match="pre-defined"):
        svc.remove("bridge")
    with pytest.raises(Forbidden, match="already exists in network one"):
        svc.connect(cid, ns.path, "one", name="c1")
    with pytest.raises(Forbidden):
        svc.connect(cid, ns.path, "host")
    with pytest.raises(NotFound, match="network nope not found"):
        svc.connect(cid, ns.path, "nope")
    with pytest.raises(NotFound, match="network namespace"):
        svc.connect("f" * 64, "/run/netns/does-not-exist", "one")
    with pytest.raises(InvalidParameter, match="is the host's own"):
        svc.connect("f" * 64, "/proc/self/ns/net", "one")
    with pytest.raises(InvalidParameter, match="MAC"):
        svc.connect("f" * 64, ns.path, "bridge", mac="01:00:00:00:00:01")
    assert len(env_links()) == len(before) + 1          # only c1's veth
    svc.disconnect(cid, "one")
    with pytest.raises(NotFound, match="is not connected to network one"):
        svc.disconnect(cid, "one")
    br = env.naming.bridge(svc.inspect("one")["Id"])
    assert br in before
    svc.remove("one")
    assert env_links() == sorted(set(before) - {br})
    assert "one" not in [n["Name"] for n in svc.list()]


def env_links():
    from dynet_support import sh
    return sorted(link["ifname"] for link in json.loads(sh("ip", "-j", "link").stdout))


def test_dns_forwards_unknown_names_to_upstream(env):
    import socket
    import threading

    from dockyard.network import dnsmsg as M
    up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    up.bind(("127.0.0.1", 0))
    up.settimeout(0.1)
    env.upstreams.append(up.getsockname())
    seen = []
    stop = threading.Event()

    def answer():
        try:
            while not stop.is_set():
                try:
                    data, peer = up.recvfrom(2048)
                except socket.timeout:
                    continue
                q = M.parse(data)
                seen.append(q.questions[0].name)
                if q.questions[0].qtype == M.A:
                    r = M.reply_to(q, answers=[M.Record(q.questions[0].name, M.A, M.IN, 30, "192.0.2.77")], aa=False)
                else:
                    r = M.reply_to(q, aa=False)
                up.sendto(M.encode(r), peer)
        except OSError:
            pass

    t = threading.Thread(target=answer, daemon=True)
    t.start()
    try:
        svc = env.service()
        svc.create({"Name": "fw"})
        ns, _, _ = _join(env, svc, "fw", "c1")
        assert ns.probe("resolve", "far.example").stdout.split() == ["192.0.2.77"]
        assert "far.example" in seen
    finally:
        stop.set()
        t.join(5)
        up.close()


def _default_gateway(ns):
    routes = json.loads(ns.run("ip", "-j", "-4", "route", check=True).stdout)
    return [r["gateway"] for r in routes if r["dst"] == "default"]


def test_container_on_two_networks(env):
    svc = env.service()
    svc.create({"Name": "a"})
    svc.create({"Name": "b"})
    _, _, a_ep = _join(env, svc, "a", "peer-a")
    _, _, b_ep = _join(env, svc, "b", "peer-b")
    ns, cid, first = _join(env, svc, "a", "both")
    second = svc.connect(cid, ns.path, "b", name="both")
    names = {link["ifname"] for link in json.loads(ns.run("ip", "-j", "link", check=True).stdout)}
    assert names == {"lo", "eth0", "eth1"}
    assert _default_gateway(ns) == [first["Gateway"]]
    assert ns.probe("resolve", "peer-a").stdout.split() == [a_ep["IPAddress"]]
    assert ns.probe("resolve", "peer-b").stdout.split() == [b_ep["IPAddress"]]
    assert ns.ping("peer-a") and ns.ping("peer-b")
    hosts = svc.hosts(cid, "both")
    assert f"{first['IPAddress']}\tboth\n" in hosts and f"{second['IPAddress']}\tboth\n" in hosts
    svc.disconnect(cid, "a")                            # the default route moves to b
    assert _default_gateway(ns) == [second["Gateway"]]
    assert ns.probe("resolve", "peer-b").stdout.split() == [b_ep["IPAddress"]]
    assert ns.probe("resolve", "peer-a").returncode != 0
    svc.disconnect(cid, "b")                            # no user network left: no DNS rules either
    assert ns.run("nft", "-s", "list", "ruleset", check=True).stdout.strip() == ""
    assert {link["ifname"] for link in json.loads(ns.run("ip", "-j", "link", check=True).stdout)} == {"lo"}
    # prune removes unused user networks only
    svc.create({"Name": "unused", "Labels": {"keep": "yes"}})
    svc.create({"Name": "unused2"})
    assert svc.prune(keep=lambda info: info["Labels"].get("keep") == "yes") == ["unused2"]
    assert sorted(n["Name"] for n in svc.list()) == ["a", "b", "bridge", "host", "none", "unused"]
