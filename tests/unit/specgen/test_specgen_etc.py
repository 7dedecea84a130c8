"""/etc/hostname, /etc/hosts, /etc/resolv.conf contents; host facts; rootfs preparation."""
from __future__ import annotations

import os

import pytest

from dockyard.daemon.containers.specgen import DaemonOptions, generate
from dockyard.daemon.containers.specgen_errors import SpecGenError
from dockyard.daemon.containers.specgen_etc import (DEFAULT_HOSTS, filter_resolv_conf, hosts_file, parse_extra_host,
                                                   resolv_conf, write_files)
from dockyard.daemon.containers.specgen_host import (HostInfo, caps_from_mask, find_init, host_resolv_conf_path,
                                                    parse_cpu_list)
from dockyard.daemon.containers.specgen_rootfs import host_dirs, prepare_rootfs
from specgen_helpers import CID, base_request


@pytest.mark.parametrize("host, want", [
    ("nameserver 10.0.0.2\nsearch corp\n", "nameserver 10.0.0.2\nsearch corp\n"),
    ("nameserver 127.0.0.53\noptions edns0\n", "options edns0\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n"),
    ("nameserver 127.1.2.3\nnameserver ::1\nnameserver 1.1.1.1", "nameserver 1.1.1.1\n"),
    ("nameserver 2001:db8::1\nnameserver 9.9.9.9\n", "nameserver 9.9.9.9\n"),  # no IPv6 in the container
    ("", "nameserver 8.8.8.8\nnameserver 8.8.4.4\n"),
    ("# only a comment\n\n", "# only a comment\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n"),
])
def test_filter_resolv_conf(host, want):
    assert filter_resolv_conf(host) == want


def test_filter_resolv_conf_ipv6():
    assert filter_resolv_conf("nameserver 2001:db8::1\n", ipv6=True) == "nameserver 2001:db8::1\n"
    assert filter_resolv_conf("nameserver ::1\n", ipv6=True) == ("nameserver 8.8.8.8\nnameserver 8.8.4.4\n"
                                                               "nameserver 2001:4860:4860::8888\n"
                                                               "nameserver 2001:4860:4860::8844\n")


def test_resolv_conf_with_dns_options():
    host = "search a.example\nnameserver 127.0.0.1\nnameserver 10.1.1.1\noptions rotate\n"
    assert resolv_conf(host, dns=["1.1.1.1"], search=["example.com"], options=["ndots:2"]) == \
        "search example.com\nnameserver 1.1.1.1\noptions ndots:2\n"
    assert resolv_conf(host, search=["b.example"]) == "search b.example\nnameserver 10.1.1.1\noptions rotate\n"
    assert resolv_conf(host, search=["."], dns=["9.9.9.9"]) == "nameserver 9.9.9.9\noptions rotate\n"
    for kw, msg in (({"dns": ["one"]}, "one is not an ip address"),
                    ({"search": ["a\nnameserver 6.6.6.6"]}, "invalid DNS search domain"),
                    ({"options": ["x y"]}, "invalid DNS option")):
        with pytest.raises(SpecGenError, match=msg):
            resolv_conf(host, **kw)


def test_hosts_file():
    assert hosts_file("abc") == DEFAULT_HOSTS
    assert hosts_file("web", "example.com", ["172.18.0.2"], ["db:10.0.0.5", "v6:fe80::1", "gw:host-gateway"],
                      host_gateway_ip="172.18.0.1") == DEFAULT_HOSTS + (
        "10.0.0.5\tdb\nfe80::1\tv6\n172.18.0.1\tgw\n172.18.0.2\tweb.example.com web\n")
    assert parse_extra_host("a=1.2.3.4") == ("a", "1.2.3.4")
    assert parse_extra_host("a:[::1]") == ("a", "::1")
    for bad, msg in (("nocolon", "bad format for add-host"), ("a:notanip", 'invalid IP address in add-host: "notanip"'),
                     ("a b:1.2.3.4", "bad format"),
                     ("gw:host-gateway", "unable to derive the IP value for host-gateway")):
        with pytest.raises(SpecGenError, match=msg):
            parse_extra_host(bad)


def test_generated_files(make_inputs, host):
    g = generate(base_request(Hostname="web", Domainname="example.com",
                              HostConfig={"Dns": ["1.1.1.1"], "ExtraHosts": ["db:10.0.0.5"]}),
                 make_inputs(addresses=["172.18.0.2"]))
    assert g.files == {"hostname": "web\n", "resolv.conf": "nameserver 1.1.1.1\n",
                       "hosts": DEFAULT_HOSTS + "10.0.0.5\tdb\n172.18.0.2\tweb.example.com web\n"}
    opts = DaemonOptions(dns=["9.9.9.9"], dns_search=["corp"])
    resolv = generate(base_request(), make_inputs(options=opts)).files["resolv.conf"]
    assert resolv == "search corp\nnameserver 9.9.9.9\n"
    # --network none: no address line even when the daemon has one
    g = generate(base_request(HostConfig={"NetworkMode": "none"}), make_inputs(addresses=["172.18.0.2"]))
    assert g.files["hosts"] == DEFAULT_HOSTS
    assert {m["destination"]: m["source"] for m in g.config["mounts"]}["/etc/resolv.conf"] == \
        os.path.join(str(make_inputs().files_dir), "resolv.conf")


def test_write_files(tmp_path):
    d = tmp_path / "c"
    write_files(str(d), {"hostname": "h\n", "hosts": "x\n"})
    assert (d / "hostname").read_text() == "h\n" and sorted(os.listdir(d)) == ["hostname", "hosts"]
    write_files(str(d), {"hostname": "h2\n"})
    assert (d / "hostname").read_text() == "h2\n" and oct((d / "hostname").stat().st_mode & 0o777) == "0o644"
    with pytest.raises(ValueError):
        write_files(str(d), {"../evil": ""})


def test_host_facts(tmp_path):
    assert caps_from_mask(0xa80425fb) == ("CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
                                          "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
                                          "CAP_NET_RAW", "CAP_SYS_CHROOT", "CAP_MKNOD", "CAP_AUDIT_WRITE",
                                          "CAP_SETFCAP")
    assert parse_cpu_list("0-2,5") == {0, 1, 2, 5} and parse_cpu_list("") == set()
    assert parse_cpu_list("2-1") is None and parse_cpu_list("x") is None
    stub = tmp_path / "resolv.conf"
    stub.write_text("nameserver 127.0.0.53\n")
    real = tmp_path / "real"
    real.write_text("nameserver 10.0.0.1\n")
    assert host_resolv_conf_path(str(stub), str(real)) == str(real)  # systemd-resolved's stub: use its upstreams
    assert host_resolv_conf_path(str(real), str(stub)) == str(real)
    exe = tmp_path / "tini"
    exe.write_text("")
    assert find_init([str(tmp_path / "missing"), str(exe)]) is None
    exe.chmod(0o755)
    assert find_init([str(tmp_path / "missing"), str(exe)]) == str(exe)
    mi = tmp_path / "mountinfo"
    mi.write_text("1 0 8:1 / / rw - ext4 /dev/sda rw\n"
                  "2 1 0:5 / /mnt rw shared:4 - tmpfs t rw\n"
                  "3 2 0:6 / /mnt/sub rw master:4 - tmpfs t rw\n"
                  "4 1 0:7 / /mnt\\040space rw shared:9 - tmpfs t rw\n")
    h = HostInfo(mountinfo=str(mi))
    assert h.propagation_of("/mnt/x") == ("/mnt", "shared")
    assert h.propagation_of("/mnt/sub/y") == ("/mnt/sub", "slave")
    assert h.propagation_of("/mntx") == ("/", "private")
    assert h.propagation_of("/mnt space/z") == ("/mnt space", "shared")


def test_probe_this_host():
    h = HostInfo.probe()
    assert h.ncpu >= 1 and h.hostname and h.cgroup_version in (1, 2)
    assert "CAP_CHOWN" in h.capabilities or os.geteuid() != 0
    assert parse_cpu_list(h.cpus)


def test_prepare_rootfs(tmp_path):
    root = tmp_path / "rootfs"
    (root / "etc").mkdir(parents=True)
    os.symlink("/", root / "up")
    prepare_rootfs(str(root), "/up/../work/dir")  # ".." and symlinks cannot leave the rootfs
    assert (root / "work" / "dir").is_dir()
    (root / "file").write_text("")
    with pytest.raises(SpecGenError, match="Cannot mkdir: /file/x is not a directory"):
        prepare_rootfs(str(root), "/file/x")
    prepare_rootfs(str(root), "/")
    host_dirs([str(tmp_path / "a" / "b")])
    assert (tmp_path / "a" / "b").is_dir()


def test_container_id_is_checked(make_inputs):
    with pytest.raises(SpecGenError, match="invalid container id"):
        make_inputs(container_id="../x")
    assert make_inputs().container_id == CID
