"""``-p``/``--publish`` and ``--expose`` (go-connections nat.ParsePortSpecs)."""
from __future__ import annotations


def _port_range(ports: str) -> tuple[int, int]:
    if ports == "":
        raise ValueError("empty string specified for ports")
    if "-" not in ports:
        v = _uint16(ports)
        return v, v
    a, _, b = ports.partition("-")
    start, end = _uint16(a), _uint16(b)
    if end < start:
        raise ValueError(f"invalid range specified for port: {ports}")
    return start, end


def _uint16(s: str) -> int:
    if not s.isdigit():
        raise ValueError(f"invalid syntax: {s}")
    v = int(s)
    if v > 65535:
        raise ValueError(f"value out of range: {s}")
    return v


def split_proto_port(raw: str) -> tuple[str, str]:
    parts = raw.split("/")
    if not raw or not parts[0]:
        return "", ""
    if len(parts) == 1:
        return "tcp", raw
    if not parts[1]:
        return "tcp", parts[0]
    return parts[1], parts[0]


def _split_parts(raw: str) -> tuple[str, str, str]:
    parts = raw.split(":")
    n = len(parts)
    if n == 1:
        return "", "", parts[0]
    if n == 2:
        return "", parts[0], parts[1]
    if n == 3:
        return parts[0], parts[1], parts[2]
    return ":".join(parts[:n - 2]), parts[n - 2], parts[n - 1]


def _valid_ip(ip: str) -> bool:
    import ipaddress
    try:
        ipaddress.ip_address(ip)
        return True
    except ValueError:
        return False


def parse_port_spec(raw: str) -> list[tuple[str, dict]]:
    """"127.0.0.1:8080:80/tcp" → [("80/tcp", {"HostIp": "127.0.0.1", "HostPort": "8080"})]."""
    ip, host_port, container_port = _split_parts(raw)
    proto, container_port = split_proto_port(container_port)
    if ip.startswith("["):
        if not ip.endswith("]"):
            raise ValueError(f"invalid IP address {ip}: missing ']' in address")
        ip = ip[1:-1]
    if ip and not _valid_ip(ip):
        raise ValueError("invalid IP address: " + ip)
    if container_port == "":
        raise ValueError(f"no port specified: {raw}<empty>")
    try:
        start, end = _port_range(container_port)
    except ValueError:
        raise ValueError("invalid containerPort: " + container_port) from None
    hstart = hend = 0
    if host_port:
        try:
            hstart, hend = _port_range(host_port)
        except ValueError:
            raise ValueError("invalid hostPort: " + host_port) from None
        if (end - start) != (hend - hstart) and end != start:
            raise ValueError(f"invalid ranges specified for container and host Ports: {container_port} and {host_port}")
    if proto.lower() not in ("tcp", "udp", "sctp"):
        raise ValueError("invalid proto: " + proto)
    out = []
    for i in range(end - start + 1):
        cport = str(start + i)
        hp = str(hstart + i) if host_port else ""
        if start == end and hstart != hend:
            hp = f"{hp}-{hend}"
        out.append((f"{cport}/{proto.lower()}", {"HostIp": ip, "HostPort": hp}))
    return out


def parse_publish(specs: list[str]) -> tuple[dict, dict]:
    """All ``-p`` values → (ExposedPorts, PortBindings)."""
    exposed: dict[str, dict] = {}
    bindings: dict[str, list] = {}
    for spec in specs:
        for port, binding in parse_port_spec(spec):
            exposed.setdefault(port, {})
            bindings.setdefault(port, []).append(binding)
    return exposed, bindings


def parse_expose(values: list[str], exposed: dict) -> None:
    for e in values:
        if ":" in e:
            raise ValueError(f"invalid port format for --expose: {e}")
        proto, port = split_proto_port(e)
        try:
            start, end = _port_range(port)
        except ValueError as err:
            raise ValueError(f"invalid range format for --expose: {e}, error: {err}") from None
        for p in range(start, end + 1):
            exposed.setdefault(f"{p}/{proto}", {})
