"""User-defined networks through both CLIs: containers find each other by name and alias (ping and
TCP), a container on another network can neither resolve nor reach them, ``network connect`` /
``disconnect`` change that on a running container, and removing everything leaves no bridge or veth."""
import time

import pytest
from dn_support import CLIS, bridge_of, cli, fake_dns, inspect, link_exists, owned, uniq

pytestmark = pytest.mark.root

HTTPD = ["busybox", "httpd", "-f", "-p", "80", "-h", "/etc"]   # serves /etc/hostname


@pytest.mark.parametrize("which", CLIS)
def test_user_network_names_isolation_connect(d, which):
    net_a, net_b, web, alias, other = uniq("na"), uniq("nb"), uniq("web"), uniq("al"), uniq("ot")
    before = owned(d)["links"]
    since = str(int(time.time()) - 1)
    cli(d, which, "network", "create", net_a)
    cli(d, which, "network", "create", "--label", "purpose=test", net_b)
    try:
        bridges = [bridge_of(d, net_a), bridge_of(d, net_b)]
        assert all(link_exists(b) for b in bridges)
        cid = cli(d, which, "run", "-d", "--name", web, "--network", net_a, "--network-alias", alias,
                  *HTTPD).stdout.strip()
        short = cid[:12]
        ip = inspect(d, web)["NetworkSettings"]["Networks"][net_a]["IPAddress"]
        assert ip

        # same network: by name (ping, HTTP), by alias, raw TCP with nc
        out = cli(d, which, "run", "--rm", "--network", net_a, "busybox", "sh", "-c",
                  f"ping -c1 -W2 {web} >/dev/null && echo PING-OK; timeout 3 wget -qO- http://{web}/hostname; "
                  f"timeout 3 wget -qO- http://{alias}/hostname; "
                  f"printf 'GET /hostname HTTP/1.0\\r\\n\\r\\n' | nc -w 3 {web} 80 | tail -1").stdout.split()
        assert out == ["PING-OK", short, short, short]

        # another network: the name does not resolve, and the address cannot be reached
        out = cli(d, which, "run", "--rm", "--network", net_b, "busybox", "sh", "-c",
                  f"ping -c1 -W1 {web} >/dev/null 2>&1 && echo NAME; "
                  f"(ping -c1 -W1 {ip} >/dev/null 2>&1 && echo PING) & "
                  f"timeout 1 wget -qO- http://{ip}/hostname 2>/dev/null && echo TCP; wait; echo done").stdout.split()
        assert out == ["done"]

        # connect a running container of B to A: it reaches web by name; disconnect: it no longer does
        cli(d, which, "run", "-d", "--name", other, "--network", net_b, "busybox", "sleep", "60")
        cli(d, which, "network", "connect", "--alias", "joiner", net_a, other)
        nets = inspect(d, other)["NetworkSettings"]["Networks"]
        assert set(nets) == {net_a, net_b} and nets[net_a]["IPAddress"]
        assert d.docker("exec", other, "timeout", "3", "wget", "-qO-", f"http://{web}/hostname").stdout.strip() == short
        # ... and web finds it under its alias
        assert d.docker("exec", web, "ping", "-c1", "-W2", "joiner").returncode == 0
        info = cli(d, which, "network", "inspect", net_a).stdout
        assert cid in info and inspect(d, other)["Id"] in info
        cli(d, which, "network", "disconnect", net_a, other)
        assert set(inspect(d, other)["NetworkSettings"]["Networks"]) == {net_b}
        p = d.docker("exec", other, "timeout", "2", "wget", "-qO-", f"http://{ip}/hostname", check=False)
        assert p.returncode != 0

        # a network with containers cannot be removed
        p = cli(d, which, "network", "rm", net_a, check=False)
        assert p.returncode != 0 and "active endpoints" in p.stderr
        assert link_exists(bridges[0])
    finally:
        cli(d, which, "rm", "-f", web, other, check=False)
        cli(d, which, "network", "rm", net_a, net_b, check=False)
    assert owned(d)["links"] == before, "a bridge or veth was left behind"
    assert not any(link_exists(b) for b in bridges)
    events = d.docker("events", "--since", since, "--until", str(int(time.time()) + 1), "--filter", "type=network",
                      "--filter", f"network={net_a}", "--format", "{{.Action}} {{.Actor.Attributes.name}}").stdout
    assert events.split("\n")[:1] == [f"create {net_a}"] and f"destroy {net_a}" in events
    assert events.count(f"connect {net_a}") >= 3 and f"disconnect {net_a}" in events


def test_other_names_are_forwarded_to_the_upstream_servers(d):
    """Names the embedded DNS server does not know go to the container's --dns servers (or the host's
    resolvers), asked from the host's namespace: here a fake one on a loopback address of this host."""
    net, name = uniq("fw"), uniq("c")
    server = fake_dns("127.0.0.77", "192.0.2.99")
    d.docker("network", "create", net)
    try:
        out = d.docker("run", "--rm", "--name", name, "--network", net, "--dns", "127.0.0.77", "busybox",
                       "nslookup", "-type=a", "somewhere.example", "127.0.0.11").stdout
        assert "192.0.2.99" in out
        # and a container's own name still comes from the embedded server, not the upstream
        d.docker("run", "-d", "--name", name, "--network", net, "busybox", "sleep", "30")
        ip = inspect(d, name)["NetworkSettings"]["Networks"][net]["IPAddress"]
        out = d.docker("run", "--rm", "--network", net, "--dns", "127.0.0.77", "busybox", "nslookup", "-type=a", name,
                       "127.0.0.11").stdout
        assert ip in out and "192.0.2.99" not in out
    finally:
        server.kill()
        server.wait()
        d.docker("rm", "-f", name, check=False)
        d.docker("network", "rm", net, check=False)
