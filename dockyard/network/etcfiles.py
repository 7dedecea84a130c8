"""The network-dependent parts of a container's /etc/resolv.conf and /etc/hosts.

On a user-defined network the container asks the embedded DNS server (``nameserver 127.0.0.11``,
``options ndots:0``, the host's search domains), and its ``--dns`` servers become that server's
upstreams; on the default bridge it gets the host's resolv.conf without loopback nameservers
(unreachable from its namespace), or the ``--dns`` servers.
"""
from __future__ import annotations

import ipaddress

from .dns import LISTEN

DEFAULT_DNS = ("8.8.8.8", "8.8.4.4")
HOSTS_HEAD = ("127.0.0.1\tlocalhost\n"
              "::1\tlocalhost ip6-localhost ip6-loopback\n"
              "fe00::0\tip6-localnet\n"
              "ff00::0\tip6-mcastprefix\n"
              "ff02::1\tip6-allnodes\n"
              "ff02::2\tip6-allrouters\n")


def _words(text: str, key: str) -> list[str]:
    out: list[str] = []
    for line in text.splitlines():
        w = line.split()
        if w and w[0] == key:
            out = w[1:]
    return out


def _servers(text: str) -> list[str]:
    out = []
    for line in text.splitlines():
        w = line.split()
        if len(w) >= 2 and w[0] == "nameserver":
            try:
                ip = ipaddress.ip_address(w[1].split("%")[0])
            except ValueError:
                continue
            if not ip.is_loopback and ip.version == 4:
                out.append(w[1])
    return out


def resolv_conf(host_text: str, embedded_dns: bool, dns=(), search=(), options=()) -> str:
    search = list(search) or _words(host_text, "search")
    options = list(options) or _words(host_text, "options")
    if embedded_dns:
        servers = [LISTEN[0]]
        if not any(o.startswith("ndots:") for o in options):
            options = options + ["ndots:0"]
    else:
        servers = list(dns) or _servers(host_text) or list(DEFAULT_DNS)
    out = []
    if search and search != ["."]:
        out.append("search " + " ".join(search) + "\n")
    out += [f"nameserver {s}\n" for s in servers]
    if options:
        out.append("options " + " ".join(options) + "\n")
    return "".join(out)


def hosts_file(hostname: str, addresses=(), extra=()) -> str:
    """Docker's /etc/hosts: the standard entries, ``extra`` (name, ip) pairs, then the container."""
    lines = [HOSTS_HEAD]
    lines += [f"{ip}\t{name}\n" for name, ip in extra]
    lines += [f"{ip}\t{hostname}\n" for ip in addresses]
    return "".join(lines)
