from dockyard.network.nftrules import DnatRule, NetRules, Tables, render, render_delete

T = Tables("dyt", "dyt-nat")


def _body(script: str, table: str) -> list[str]:
    """The rule lines of one table's definition block."""
    lines = script.splitlines()
    start = lines.index(f"table ip {table} {{")
    end = lines.index("}", start)
    return [ln.strip() for ln in lines[start + 1:end]]


def test_only_own_tables_replaced_atomically():
    s = render(T, [], [])
    tables = {ln.split("table ip ")[1].split()[0] for ln in s.splitlines() if "table ip " in ln}
    assert tables == {"dyt", "dyt-nat"}
    assert s.startswith("add table ip dyt\nflush table ip dyt\ntable ip dyt {\n")
    assert "\nadd table ip dyt-nat\nflush table ip dyt-nat\ntable ip dyt-nat {\n" in s
    again = render(T, [], [], recreate=True)
    assert again.startswith("table ip dyt {}\ndelete table ip dyt\ntable ip dyt {\n")
    assert "flush ruleset" not in s
    assert render_delete(T) == "table ip dyt {}\ndelete table ip dyt\ntable ip dyt-nat {}\ndelete table ip dyt-nat\n"


def test_isolation_between_bridges():
    s = render(T, [NetRules("br-b", "10.2.0.0/24"), NetRules("br-a", "10.1.0.0/24")], [])
    fwd = _body(s, "dyt")
    assert fwd[:2] == ["chain forward {", "type filter hook forward priority filter; policy accept;"]
    assert 'iifname "br-a" oifname { "br-b" } drop' in fwd
    assert 'iifname "br-b" oifname { "br-a" } drop' in fwd
    # published ports (DNAT) are accepted before the isolation drops
    assert fwd.index("ct status dnat accept") < fwd.index('iifname "br-a" oifname { "br-b" } drop')


def test_single_network_has_no_isolation_rule():
    fwd = _body(render(T, [NetRules("br-a", "10.1.0.0/24")], []), "dyt")
    assert not [r for r in fwd if "drop" in r]


def test_internal_network():
    s = render(T, [NetRules("br-i", "10.3.0.0/24", internal=True), NetRules("br-a", "10.1.0.0/24")], [])
    fwd = _body(s, "dyt")
    assert fwd.index('iifname "br-i" ip daddr != 10.3.0.0/24 drop') < fwd.index("ct status dnat accept")
    assert 'oifname "br-i" ip saddr != 10.3.0.0/24 drop' in fwd
    nat = _body(s, "dyt-nat")
    assert 'ip saddr 10.1.0.0/24 oifname != "br-a" masquerade' in nat
    assert not [r for r in nat if r.startswith("ip saddr 10.3.0.0/24")]


def test_masquerade_off_and_icc_off():
    s = render(T, [NetRules("br-a", "10.1.0.0/24", masquerade=False, icc=False)], [])
    assert 'iifname "br-a" oifname "br-a" drop' in _body(s, "dyt")
    assert not [r for r in _body(s, "dyt-nat") if "oifname !=" in r]


def test_localhost_and_hairpin_masquerade():
    nat = _body(render(T, [NetRules("br-a", "10.1.0.0/24")], []), "dyt-nat")
    assert 'oifname "br-a" ip saddr 127.0.0.0/8 masquerade' in nat
    assert 'oifname "br-a" ip saddr 10.1.0.0/24 ct status dnat masquerade' in nat


def test_published_ports():
    s = render(T, [NetRules("br-a", "10.1.0.0/24")], [
        DnatRule("udp", "", 5353, "10.1.0.2", 53),
        DnatRule("tcp", "127.0.0.1", 8080, "10.1.0.2", 80),
        DnatRule("tcp", "", 8081, "10.1.0.3", 80)])
    lines = [ln.strip() for ln in s.splitlines()]
    pre = lines.index("chain prerouting {")
    assert lines[pre + 1:pre + 3] == ["type nat hook prerouting priority dstnat; policy accept;",
                                      "fib daddr type local jump published"]
    out = lines.index("chain output {")
    assert lines[out + 1:out + 3] == ["type nat hook output priority -100; policy accept;",
                                      "fib daddr type local jump published"]
    pub = lines.index("chain published {")
    assert lines[pub + 1:pub + 4] == ["tcp dport 8081 dnat to 10.1.0.3:80", "udp dport 5353 dnat to 10.1.0.2:53",
                                      "ip daddr 127.0.0.1 tcp dport 8080 dnat to 10.1.0.2:80"]


def test_add_dnats_appends_to_published_chain():
    from dockyard.network.nftrules import render_add_dnats
    assert render_add_dnats(T, [DnatRule("tcp", "127.0.0.1", 8080, "10.1.0.2", 80)]) == \
        "add rule ip dyt-nat published ip daddr 127.0.0.1 tcp dport 8080 dnat to 10.1.0.2:80\n"
    assert render_add_dnats(T, []) == ""


def test_dns_rules_inside_container():
    from dockyard.network.nftrules import render_dns, render_dns_delete
    s = render_dns("127.0.0.11", 40000, 40001)
    assert s.startswith("add table ip dockyard-dns\nflush table ip dockyard-dns\n")
    assert "ip daddr 127.0.0.11 udp dport 53 dnat to 127.0.0.11:40000" in s
    assert "ip daddr 127.0.0.11 tcp dport 53 dnat to 127.0.0.11:40001" in s
    assert "type nat hook output priority -100" in s
    assert render_dns_delete() == "table ip dockyard-dns {}\ndelete table ip dockyard-dns\n"


def test_render_is_deterministic():
    nets = [NetRules("b", "10.2.0.0/24"), NetRules("a", "10.1.0.0/24")]
    assert render(T, nets, []) == render(T, list(reversed(nets)), [])
