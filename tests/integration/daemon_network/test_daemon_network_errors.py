"""Bad input through the API and both CLIs: one clear error each, and nothing half-made (no network,
no container, no bridge or veth, no endpoint)."""
import json
from urllib.parse import quote

import pytest
from dn_support import CLIS, api, cli, inspect, owned, uniq

pytestmark = pytest.mark.root


def _no_container(d, name):
    return d.docker("ps", "-aq", "--filter", f"name=^{name}$").stdout.strip() == ""


def _networks(d):
    return sorted(d.docker("network", "ls", "--format", "{{.Name}}").stdout.split())


@pytest.mark.parametrize("which", CLIS)
def test_overlapping_subnets_and_duplicates(d, which):
    a, b = uniq("ov"), uniq("ov")
    cli(d, which, "network", "create", "--subnet", "10.196.10.0/24", a)
    try:
        before, links = _networks(d), owned(d)["links"]
        p = cli(d, which, "network", "create", "--subnet", "10.196.10.128/25", b, check=False)
        assert p.returncode == 1 and "overlaps" in p.stderr and a in p.stderr
        p = cli(d, which, "network", "create", a, check=False)
        assert p.returncode == 1 and f"network with name {a} already exists" in p.stderr
        p = cli(d, which, "network", "create", "--subnet", "10.196.20.0/24", "--gateway", "10.196.21.1", b,
                check=False)
        assert p.returncode == 1 and "no matching subnet for gateway" in p.stderr
        p = cli(d, which, "network", "create", "--subnet", "10.196.20.0/33", b, check=False)
        assert p.returncode == 1 and "invalid subnet" in p.stderr
        assert _networks(d) == before and owned(d)["links"] == links
    finally:
        cli(d, which, "network", "rm", a)


@pytest.mark.parametrize("which", CLIS)
def test_bad_container_network_settings_fail_at_create(d, which):
    net, name = uniq("bad"), uniq("c")
    cli(d, which, "network", "create", "--subnet", "10.196.30.0/24", net)
    plain = uniq("plain")
    cli(d, which, "network", "create", plain)
    try:
        cases = [
            (["--network", net, "--ip", "10.196.31.5"], "no configured subnet or ip-range contain the IP address"),
            (["--network", net, "--ip", "10.196.30.1"], "already in use by the gateway"),
            (["--ip", "10.196.30.5"], "user specified IP address is supported on user defined networks only"),
            (["--network", plain, "--ip", "10.196.30.5"], "user configured subnets"),
            (["--network", uniq("nonet")], "not found"),
            (["--network", f"container:{uniq('nobody')}"], "No such container"),
            (["--network", net, "--network-alias", "bad..alias"], "invalid network alias"),
        ]
        for args, message in cases:
            p = cli(d, which, "run", "-d", "--name", name, *args, "busybox", "true", check=False)
            assert p.returncode != 0 and message in p.stderr, (args, p.stderr)
            assert "Unable to find image" not in p.stderr
            assert _no_container(d, name), args
    finally:
        cli(d, which, "network", "rm", net, plain, check=False)


def test_address_in_use_fails_the_start_and_leaves_nothing(d):
    net, first, second = uniq("dup"), uniq("c"), uniq("c")
    d.docker("network", "create", "--subnet", "10.196.40.0/24", net)
    try:
        d.docker("run", "-d", "--name", first, "--network", net, "--ip", "10.196.40.9", "busybox", "sleep", "60")
        links = owned(d)["links"]
        p = d.docker("run", "-d", "--name", second, "--network", net, "--ip", "10.196.40.9", "busybox", "sleep",
                     "60", check=False)
        assert p.returncode != 0 and "10.196.40.9 is already in use" in p.stderr
        assert not inspect(d, second)["State"]["Running"]
        assert owned(d)["links"] == links
        containers = json.loads(d.docker("network", "inspect", net).stdout)[0]["Containers"]
        assert list(containers) == [inspect(d, first)["Id"]]
        # the first container keeps its address and its network
        assert d.docker("exec", first, "ip", "-o", "-4", "addr", "show", "eth0").stdout.count("10.196.40.9/24") == 1
    finally:
        d.docker("rm", "-f", first, second, check=False)
        d.docker("network", "rm", net, check=False)


@pytest.mark.parametrize("which", CLIS)
def test_remove_network_in_use_and_predefined(d, which):
    net, name = uniq("busy"), uniq("c")
    cli(d, which, "network", "create", net)
    try:
        cli(d, which, "run", "-d", "--name", name, "--network", net, "busybox", "sleep", "60")
        p = cli(d, which, "network", "rm", net, check=False)
        assert p.returncode == 1 and f"network {net} id" in p.stderr and "has active endpoints" in p.stderr
        assert net in _networks(d)
        for pre in ("bridge", "host", "none"):
            p = cli(d, which, "network", "rm", pre, check=False)
            assert p.returncode == 1 and "pre-defined network and cannot be removed" in p.stderr
        for pre in ("host", "none"):
            p = cli(d, which, "network", "connect", pre, name, check=False)
            assert p.returncode == 1 and f"connected to {pre} network" in p.stderr
        p = cli(d, which, "network", "connect", net, name, check=False)
        assert p.returncode == 1 and "already exists in network" in p.stderr
        p = cli(d, which, "network", "disconnect", "bridge", name, check=False)
        assert p.returncode == 1 and "is not connected to network bridge" in p.stderr
        p = cli(d, which, "network", "create", "-d", "overlay", uniq("x"), check=False)
        assert p.returncode == 1 and 'plugin "overlay" not found' in p.stderr
    finally:
        cli(d, which, "rm", "-f", name, check=False)
        cli(d, which, "network", "rm", net, check=False)


def test_api_bad_requests(d):
    name = uniq("api")
    # more than one network at create (API 1.41), aliases on the default bridge, IPv6, links
    body = {"Image": "busybox", "Cmd": ["true"], "HostConfig": {"NetworkMode": "bridge"},
            "NetworkingConfig": {"EndpointsConfig": {"bridge": {}, "host": {}}}}
    st, res = api(d, "POST", f"/containers/create?name={name}", body)
    assert st == 400 and "Container cannot be connected to network endpoints" in res["message"]
    body["NetworkingConfig"] = {"EndpointsConfig": {"bridge": {"Aliases": ["x"]}}}
    st, res = api(d, "POST", f"/containers/create?name={name}", body)
    assert st == 400 and "user defined networks" in res["message"]
    body["NetworkingConfig"] = {"EndpointsConfig": {"bridge": {"IPAMConfig": {"IPv6Address": "fd00::5"}}}}
    st, res = api(d, "POST", f"/containers/create?name={name}", body)
    assert st == 400 and "IPv6" in res["message"]
    body["NetworkingConfig"] = {}
    body["HostConfig"] = {"PortBindings": {"80/tcp": [{"HostPort": "99999"}]}}
    st, res = api(d, "POST", f"/containers/create?name={name}", body)
    assert st == 400 and "host port" in res["message"]
    body["HostConfig"] = {"NetworkMode": "host", "PortBindings": {}, "Dns": ["not-an-ip"]}
    st, res = api(d, "POST", f"/containers/create?name={name}", body)
    assert st == 400 and "not-an-ip is not an ip address" in res["message"]
    body["HostConfig"] = {"NetworkMode": "container:x", "PortBindings": {"80/tcp": [{}]}}
    st, res = api(d, "POST", f"/containers/create?name={name}", body)
    assert st == 400
    body = {"Image": "busybox", "MacAddress": "01:00:00:00:00:01"}
    st, res = api(d, "POST", f"/containers/create?name={name}", body)
    assert st == 400 and "multicast" in res["message"]
    assert _no_container(d, name)
    # network API
    st, res = api(d, "POST", "/networks/create", {"Name": "bad name!"})
    assert st == 400 and "invalid network name" in res["message"]
    st, res = api(d, "POST", "/networks/create", {"Name": uniq("n"), "IPAM": {"Config": [{"Subnet": "10.1.0.0/16",
                                                                                           "Gateway": "10.2.0.1"}]}})
    assert st == 400 and "not inside subnet" in res["message"]
    st, res = api(d, "GET", "/networks?filters=" + quote(json.dumps({"bogus": ["x"]})))
    assert st == 400 and "invalid filter 'bogus'" in res["message"]
    st, res = api(d, "POST", "/networks/bridge/connect", {})
    assert st == 400
    st, res = api(d, "POST", "/networks/bridge/connect", {"Container": uniq("nobody")})
    assert st == 404
