"""The netns helper process: sockets and nftables inside other namespaces, without setns() here."""
import os
import socket
import subprocess
import sys

import pytest
from dynet_support import Netns

from dockyard.network import nft, nftrules
from dockyard.network.errors import NetworkError, NotFound
from dockyard.network.nsbroker import NetnsBroker

pytestmark = pytest.mark.root


@pytest.fixture
def ns():
    n = Netns(f"ynb{os.getpid() % 100000}")
    try:
        n.run("ip", "link", "add", "probe0", "type", "bridge", check=True)
        yield n
    finally:
        n.delete()


def test_netlink_and_sockets_live_in_the_namespace(ns):
    from pyroute2 import IPRoute
    b = NetnsBroker()
    try:
        home = os.readlink("/proc/self/ns/net")
        with IPRoute(fileno=b.netlink(ns.path).detach()) as ipr:
            names = {link.get("ifname") for link in ipr.link("dump")}
        assert names == {"lo", "probe0"}
        # a UDP socket made there can bind an address that exists only there
        ns.run("ip", "addr", "add", "10.99.0.1/24", "dev", "probe0", check=True)
        ns.run("ip", "link", "set", "probe0", "up", check=True)
        s = b.socket(ns.path, socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("10.99.0.1", 0))
        s.close()
        assert os.readlink("/proc/self/ns/net") == home    # this process never moved
        # nftables inside the namespace
        b.nft(ns.path, nftrules.render_dns("127.0.0.11", 1000, 1001))
        listed = ns.run("nft", "-s", "list", "ruleset", check=True).stdout
        assert "ip daddr 127.0.0.11 udp dport 53 dnat to 127.0.0.11:1000" in listed
        with pytest.raises(NetworkError, match="cannot apply nftables rules"):
            b.nft(ns.path, "add rule ip nowhere nochain drop")
        b.nft(ns.path, nftrules.render_dns_delete())
        assert ns.run("nft", "-s", "list", "ruleset", check=True).stdout.strip() == ""
    finally:
        b.close()


def test_errors_and_helper_restart(ns, tmp_path):
    b = NetnsBroker()
    try:
        with pytest.raises(NotFound, match="network namespace /nonexistent"):
            b.netlink("/nonexistent")
        plain = tmp_path / "file"
        plain.write_text("x")
        with pytest.raises(NetworkError, match="Invalid argument"):
            b.netlink(str(plain))
        b.netlink(ns.path).close()
        pid = b.pid
        os.kill(pid, 9)
        b.netlink(ns.path).close()                  # a new helper takes over
        assert b.pid != pid
    finally:
        b.close()
    assert b.pid is None


def test_nft_backends_agree(ns):
    """libnftables in-process and the nft command apply the same script (inside the namespace)."""
    code = ("import sys; from dockyard.network import nft, nftrules as R;"
            "t = R.Tables('dyt', 'dyt-nat');"
            "b = nft.LibNftables() if sys.argv[1] == 'lib' else nft.NftCommand();"
            "b.run(R.render(t, [R.NetRules('br-a', '10.1.0.0/24'), R.NetRules('br-b', '10.2.0.0/24', internal=True)],"
            " [R.DnatRule('tcp', '', 8080, '10.1.0.2', 80)]));"
            "print(b.run('list table ip dyt') + b.run('list table ip dyt-nat'))")
    outs = []
    for backend in ("lib", "cmd"):
        p = subprocess.run(["ip", "netns", "exec", ns.name, sys.executable, "-c", code, backend],
                           capture_output=True, text=True, timeout=30)
        assert p.returncode == 0, p.stderr
        outs.append(p.stdout)
        ns.run("nft", "delete", "table", "ip", "dyt", check=True)
        ns.run("nft", "delete", "table", "ip", "dyt-nat", check=True)
    assert outs[0] == outs[1] and "dnat to 10.1.0.2:80" in outs[0]
    assert nft.default().__class__ is nft.LibNftables
