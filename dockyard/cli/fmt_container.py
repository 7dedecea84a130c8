"""The fields ``ps --format`` offers for a container (docker's ContainerContext)."""
from __future__ import annotations

import time

from .formatter import ellipsis, truncate_id
from .template.values import NIL_PTR, go_quote
from .units import go_time_string, human_duration, human_size

DEFAULT_TABLE = "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}"

HEADER = {
    "ID": "CONTAINER ID", "Names": "NAMES", "Image": "IMAGE", "Command": "COMMAND", "CreatedAt": "CREATED AT",
    "RunningFor": "CREATED", "Ports": "PORTS", "State": "STATE", "Status": "STATUS", "Size": "SIZE",
    "Labels": "LABELS", "Mounts": "MOUNTS", "LocalVolumes": "LOCAL VOLUMES", "Networks": "NETWORKS",
    "Platform": "PLATFORM",
}

RAW = ("container_id: {{.ID}}\nimage: {{.Image}}\ncommand: {{.Command}}\ncreated_at: {{.CreatedAt}}\n"
       "state: {{- pad .State 1 0}}\nstatus: {{- pad .Status 1 0}}\nnames: {{.Names}}\n"
       "labels: {{- pad .Labels 1 0}}\nports: {{- pad .Ports 1 0}}\n")


def container_format(source: str, quiet: bool, size: bool) -> str:
    if source in ("table", ""):
        if quiet:
            return "{{.ID}}"
        return DEFAULT_TABLE + ("\t{{.Size}}" if size else "")
    if source == "raw":
        if quiet:
            return "container_id: {{.ID}}"
        return RAW + ("size: {{.Size}}\n" if size else "")
    return "{{.ID}}" if quiet else source


def _image_display(image: str, image_id: str) -> str:
    if not image:
        return "<no image>"
    if truncate_id(image_id) == truncate_id(image):
        return truncate_id(image)
    from .reference import RefError, parse
    try:
        ref = parse(image)
    except RefError:
        return image
    ref.digest = ""
    return ref.familiar()


def _port_key(p: dict):
    return (p.get("PrivatePort") or 0, p.get("IP") or "", p.get("PublicPort") or 0, p.get("Type") or "")


def displayable_ports(ports: list[dict]) -> str:
    """"0.0.0.0:80->9090/tcp, 9988/tcp" with consecutive ports grouped into ranges."""
    groups: dict[str, list[int]] = {}
    order: list[str] = []
    result: list[str] = []
    host_mappings: list[str] = []
    for p in sorted(ports or [], key=_port_key):
        current = p.get("PrivatePort") or 0
        key = p.get("Type") or ""
        ip = p.get("IP") or ""
        if ip:
            if (p.get("PublicPort") or 0) != current:
                hp = f"[{ip}]:{p.get('PublicPort') or 0}" if ":" in ip else f"{ip}:{p.get('PublicPort') or 0}"
                host_mappings.append(f"{hp}->{current}/{p.get('Type')}")
                continue
            key = f"{ip}/{p.get('Type')}"
        g = groups.get(key)
        if g is None:
            groups[key] = [current, current]
            order.append(key)
            continue
        if current == g[1] + 1:
            g[1] = current
            continue
        result.append(_form_group(key, g[0], g[1]))
        groups[key] = [current, current]
    for key in order:
        g = groups[key]
        result.append(_form_group(key, g[0], g[1]))
    return ", ".join(result + host_mappings)


def _form_group(key: str, start: int, last: int) -> str:
    parts = key.split("/")
    typ, ip = parts[0], ""
    if len(parts) > 1:
        ip, typ = parts[0], parts[1]
    group = str(start) if start == last else f"{start}-{last}"
    if ip:
        host = f"[{ip}]:{group}" if ":" in ip else f"{ip}:{group}"
        group = f"{host}->{group}"
    return f"{group}/{typ}"


class ContainerContext:
    GO_TYPE = "*formatter.ContainerContext"

    def __init__(self, c: dict, trunc: bool = True, now: float | None = None):
        self.c, self.trunc = c, trunc
        self.now = time.time() if now is None else now

    def ID(self) -> str:
        i = self.c.get("Id") or ""
        return truncate_id(i) if self.trunc else i

    def Names(self) -> str:
        names = [n[1:] if n.startswith("/") else n for n in self.c.get("Names") or []]
        if self.trunc:
            for n in names:
                if "/" not in n:
                    return n
            return ""
        return ",".join(names)

    def Image(self) -> str:
        img = self.c.get("Image") or ""
        return _image_display(img, self.c.get("ImageID") or "") if self.trunc else (img or "<no image>")

    def Command(self) -> str:
        cmd = self.c.get("Command") or ""
        if self.trunc:
            cmd = ellipsis(cmd, 20)
        return go_quote(cmd)

    def CreatedAt(self) -> str:
        return go_time_string(self.c.get("Created") or 0)

    def RunningFor(self) -> str:
        return human_duration(self.now - (self.c.get("Created") or 0)) + " ago"

    def Ports(self) -> str:
        return displayable_ports(self.c.get("Ports") or [])

    def State(self) -> str:
        return self.c.get("State") or ""

    def Status(self) -> str:
        return self.c.get("Status") or ""

    def Size(self) -> str:
        srw = human_size(self.c.get("SizeRw") or 0, 3)
        rootfs = self.c.get("SizeRootFs") or 0
        return f"{srw} (virtual {human_size(rootfs, 3)})" if rootfs > 0 else srw

    def Labels(self) -> str:
        labels = self.c.get("Labels")
        if not labels:
            return ""
        return ",".join(sorted(f"{k}={v}" for k, v in labels.items()))

    def Label(self, name: str) -> str:
        return (self.c.get("Labels") or {}).get(name, "")

    def Mounts(self) -> str:
        out = []
        for m in self.c.get("Mounts") or []:
            name = m.get("Name") or m.get("Source") or ""
            out.append(ellipsis(name, 15) if self.trunc else name)
        return ",".join(out)

    def LocalVolumes(self) -> str:
        return str(sum(1 for m in self.c.get("Mounts") or [] if m.get("Driver") == "local"))

    def Networks(self) -> str:
        nets = ((self.c.get("NetworkSettings") or {}).get("Networks")) or {}
        return ",".join(sorted(nets))

    def Platform(self):
        return NIL_PTR

    def MarshalJSON(self) -> dict:
        return {"Command": self.Command(), "CreatedAt": self.CreatedAt(), "ID": self.ID(), "Image": self.Image(),
                "Labels": self.Labels(), "LocalVolumes": self.LocalVolumes(), "Mounts": self.Mounts(),
                "Names": self.Names(), "Networks": self.Networks(), "Platform": None, "Ports": self.Ports(),
                "RunningFor": self.RunningFor(), "Size": self.Size(), "State": self.State(),
                "Status": self.Status()}
