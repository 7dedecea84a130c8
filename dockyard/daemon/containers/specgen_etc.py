"""The contents of a container's /etc/hostname, /etc/hosts and /etc/resolv.conf.

They live in the container's files dir (``<data-root>/containers/<id>/``) and are bind-mounted over
the image's files, as Docker does. resolv.conf starts from the host's: nameservers on the loopback
(127.0.0.0/8, ::1) cannot be reached from the container's network namespace and are dropped (IPv6
ones too, unless the container has IPv6), and when none are left Google's public servers are used,
like dockerd. ``--dns``, ``--dns-search`` and ``--dns-option`` replace the matching parts.
"""
from __future__ import annotations

import ipaddress
import os
import re
import tempfile

from .specgen_errors import SpecGenError

DEFAULT_HOSTS = ("127.0.0.1\tlocalhost\n"
                 "::1\tlocalhost ip6-localhost ip6-loopback\n"
                 "fe00::0\tip6-localnet\n"
                 "ff00::0\tip6-mcastprefix\n"
                 "ff02::1\tip6-allnodes\n"
                 "ff02::2\tip6-allrouters\n")
DEFAULT_DNS_V4 = ("8.8.8.8", "8.8.4.4")
DEFAULT_DNS_V6 = ("2001:4860:4860::8888", "2001:4860:4860::8844")
MAX_HOST_FILE = 1 << 20
_WORD = re.compile(r"^[^\s\x00-\x1f\x7f]+$")


def _ip(text: str) -> ipaddress._BaseAddress | None:
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None


def hostname_file(hostname: str) -> str:
    return hostname + "\n"


def parse_extra_host(entry: str, host_gateway_ip: str = "") -> tuple[str, str]:
    """``name:ip`` (or ``name=ip``) from ``--add-host``; ``host-gateway`` is the daemon's gateway address."""
    sep = "=" if "=" in entry and (":" not in entry or entry.index("=") < entry.index(":")) else ":"
    name, found, ip = entry.partition(sep)
    if not found or not name or not _WORD.match(name):
        raise SpecGenError(f"bad format for add-host: \"{entry}\"")
    if ip.startswith("[") and ip.endswith("]"):
        ip = ip[1:-1]
    if ip == "host-gateway":
        if not host_gateway_ip:
            raise SpecGenError("unable to derive the IP value for host-gateway")
        ip = host_gateway_ip
    if _ip(ip) is None:
        raise SpecGenError(f"invalid IP address in add-host: \"{ip}\"")
    return name, ip


def hosts_file(hostname: str, domainname: str = "", addresses=(), extra_hosts=(), host_gateway_ip: str = "") -> str:
    """Docker's default /etc/hosts, then ``--add-host`` entries, then one line per container address."""
    lines = [DEFAULT_HOSTS]
    for entry in extra_hosts:
        name, ip = parse_extra_host(entry, host_gateway_ip)
        lines.append(f"{ip}\t{name}\n")
    fqdn = f"{hostname}.{domainname}" if domainname else hostname
    names = f"{fqdn} {fqdn.split('.', 1)[0]}" if "." in fqdn else fqdn
    for addr in addresses:
        if _ip(addr) is None:
            raise SpecGenError(f"invalid container address {addr!r}")
        lines.append(f"{addr}\t{names}\n")
    return "".join(lines)


def _nameservers(text: str) -> list[str]:
    out = []
    for line in text.splitlines():
        f = line.split()
        if len(f) >= 2 and f[0] == "nameserver":
            out.append(f[1])
    return out


def _values(text: str, key: str) -> list[str]:
    """The words of the last ``search`` / ``options`` line (as libc reads them)."""
    out: list[str] = []
    for line in text.splitlines():
        f = line.split()
        if f and f[0] == key:
            out = f[1:]
    return out


def _reachable(server: str, ipv6: bool) -> bool:
    ip = _ip(server)
    if ip is None:
        return False
    if ip.is_loopback:
        return False
    return ip.version == 4 or ipv6


def filter_resolv_conf(text: str, ipv6: bool = False) -> str:
    """The host's resolv.conf without loopback (and, without IPv6, IPv6) nameservers; defaults if none left."""
    kept = []
    for line in text.splitlines():
        f = line.split()
        if len(f) >= 2 and f[0] == "nameserver" and not _reachable(f[1], ipv6):
            continue
        kept.append(line)
    while kept and not kept[-1].strip():
        kept.pop()
    out = "\n".join(kept) + ("\n" if kept else "")
    if not _nameservers(out):
        out += "".join(f"nameserver {s}\n" for s in DEFAULT_DNS_V4 + (DEFAULT_DNS_V6 if ipv6 else ()))
    return out


def _check_words(values, what: str) -> None:
    for v in values:
        if not _WORD.match(v):
            raise SpecGenError(f"invalid {what}: {v!r}")


def resolv_conf(host_text: str, dns=(), search=(), options=(), ipv6: bool = False) -> str:
    """The container's resolv.conf (not for host networking, which uses the host's file as is)."""
    dns, search, options = list(dns), list(search), list(options)
    for s in dns:
        if _ip(s) is None:
            raise SpecGenError(f"{s} is not an ip address")
    _check_words(search, "DNS search domain")
    _check_words(options, "DNS option")
    if not (dns or search or options):
        return filter_resolv_conf(host_text, ipv6)
    servers = dns or [s for s in _nameservers(host_text) if _reachable(s, ipv6)] or list(DEFAULT_DNS_V4)
    search = search or _values(host_text, "search")
    options = options or _values(host_text, "options")
    out = []
    if search and " ".join(search).strip() != ".":
        out.append("search " + " ".join(search) + "\n")
    out += [f"nameserver {s}\n" for s in servers]
    if options:
        out.append("options " + " ".join(options) + "\n")
    return "".join(out)


def read_host_file(path: str) -> str:
    """A host file (resolv.conf, hosts); "" when it does not exist."""
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_HOST_FILE + 1)
    except FileNotFoundError:
        return ""
    except OSError as e:
        raise SpecGenError(f"cannot read {path}: {e.strerror}") from None
    if len(data) > MAX_HOST_FILE:
        raise SpecGenError(f"{path} is larger than {MAX_HOST_FILE} bytes")
    return data.decode("utf-8", "replace")


def write_files(files_dir: str, files: dict[str, str]) -> None:
    """Write each file atomically (temporary file + rename) into the container's files dir."""
    os.makedirs(files_dir, mode=0o710, exist_ok=True)
    for name, content in files.items():
        if "/" in name or name in ("", ".", ".."):
            raise ValueError(f"invalid file name {name!r}")
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", dir=files_dir)
        try:
            with os.fdopen(fd, "w") as f:
                f.write(content)
            os.chmod(tmp, 0o644)
            os.replace(tmp, os.path.join(files_dir, name))
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise
