"""Container stats as ``docker stats`` computes and prints them."""
from __future__ import annotations

from .units import bytes_size, human_size

DEFAULT_TABLE = "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}"
HEADER = {"Container": "CONTAINER", "ID": "CONTAINER ID", "Name": "NAME", "CPUPerc": "CPU %",
          "MemUsage": "MEM USAGE / LIMIT", "MemPerc": "MEM %", "NetIO": "NET I/O", "BlockIO": "BLOCK I/O",
          "PIDs": "PIDS"}


def cpu_percent(s: dict) -> float:
    cpu, pre = s.get("cpu_stats") or {}, s.get("precpu_stats") or {}
    cpu_delta = float((cpu.get("cpu_usage") or {}).get("total_usage") or 0) - \
        float((pre.get("cpu_usage") or {}).get("total_usage") or 0)
    sys_delta = float(cpu.get("system_cpu_usage") or 0) - float(pre.get("system_cpu_usage") or 0)
    online = float(cpu.get("online_cpus") or 0) or float(len((cpu.get("cpu_usage") or {}).get("percpu_usage") or []))
    if sys_delta > 0 and cpu_delta > 0:
        return cpu_delta / sys_delta * online * 100.0
    return 0.0


def mem_usage(m: dict) -> float:
    usage = m.get("usage") or 0
    stats = m.get("stats") or {}
    v = stats.get("total_inactive_file")
    if v is not None and v < usage:
        return float(usage - v)
    v = stats.get("inactive_file", 0)
    if v < usage:
        return float(usage - v)
    return float(usage)


def block_io(s: dict) -> tuple[float, float]:
    r = w = 0
    for e in (s.get("blkio_stats") or {}).get("io_service_bytes_recursive") or []:
        op = (e.get("op") or "").lower()
        if op == "read":
            r += e.get("value") or 0
        elif op == "write":
            w += e.get("value") or 0
    return float(r), float(w)


def net_io(s: dict) -> tuple[float, float]:
    rx = tx = 0
    for n in (s.get("networks") or {}).values():
        rx += n.get("rx_bytes") or 0
        tx += n.get("tx_bytes") or 0
    return float(rx), float(tx)


class StatsContext:
    GO_TYPE = "*formatter.statsContext"

    def __init__(self, container: str, s: dict, trunc: bool = True, invalid: bool = False):
        self.container, self.s, self.trunc, self.invalid = container, s, trunc, invalid

    def Container(self) -> str:
        return self.container

    def ID(self) -> str:
        i = self.s.get("id") or ""
        return i[:12] if self.trunc else i

    def Name(self) -> str:
        n = self.s.get("name") or ""
        return n[1:] if n.startswith("/") else (n or "--")

    def CPUPerc(self) -> str:
        return "--" if self.invalid else f"{cpu_percent(self.s):.2f}%"

    def MemUsage(self) -> str:
        if self.invalid:
            return "-- / --"
        m = self.s.get("memory_stats") or {}
        return f"{bytes_size(mem_usage(m))} / {bytes_size(m.get('limit') or 0)}"

    def MemPerc(self) -> str:
        if self.invalid:
            return "--"
        m = self.s.get("memory_stats") or {}
        limit = float(m.get("limit") or 0)
        return f"{(mem_usage(m) / limit * 100.0) if limit else 0.0:.2f}%"

    def NetIO(self) -> str:
        if self.invalid:
            return "--"
        rx, tx = net_io(self.s)
        return f"{human_size(rx, 3)} / {human_size(tx, 3)}"

    def BlockIO(self) -> str:
        if self.invalid:
            return "--"
        r, w = block_io(self.s)
        return f"{human_size(r, 3)} / {human_size(w, 3)}"

    def PIDs(self) -> str:
        if self.invalid:
            return "--"
        return str((self.s.get("pids_stats") or {}).get("current") or 0)

    def MarshalJSON(self) -> dict:
        return {"BlockIO": self.BlockIO(), "CPUPerc": self.CPUPerc(), "Container": self.Container(), "ID": self.ID(),
                "MemPerc": self.MemPerc(), "MemUsage": self.MemUsage(), "Name": self.Name(), "NetIO": self.NetIO(),
                "PIDs": self.PIDs()}
