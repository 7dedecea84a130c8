"""dockyard port: the published ports of a container."""
from __future__ import annotations

from ..bulk import path
from ..errors import CLIError
from ..fmt_volume import natural_key

USAGE = "CONTAINER [PRIVATE_PORT[/PROTO]]"
SHORT = "List port mappings or a specific mapping for the container"
ARGS = (1, 2)


def flags(fs):
    pass


def _join(ip: str, port: str) -> str:
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def main(app, opts, args):
    c = app.api.get(path("/containers/{}/json", args[0])) or {}
    ports = ((c.get("NetworkSettings") or {}).get("Ports")) or {}
    out = []
    if len(args) > 1:
        spec = args[1]
        port, _, proto = spec.partition("/")
        proto = proto or "tcp"
        if not port.isdigit() or int(port) > 65535:
            raise CLIError(f'Error: invalid port ({port}): strconv.ParseUint: parsing "{port}": invalid syntax')
        frontends = ports.get(f"{port}/{proto}")
        if not frontends:
            raise CLIError(f"Error: No public port '{spec}' published for {args[0]}")
        out = [_join(f.get("HostIp") or "", f.get("HostPort") or "") for f in frontends]
    else:
        for frm, frontends in ports.items():
            for f in frontends or []:
                out.append(f"{frm} -> {_join(f.get('HostIp') or '', f.get('HostPort') or '')}")
    if out:
        out.sort(key=natural_key)
        app.out("\n".join(out))
    return 0
