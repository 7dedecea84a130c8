"""update: change a running container's resource limits."""
import json
import sys

from ..args import Command
from ..errors import RuntimeFailure


def command():
    c = Command('update', 'update container resource constraints', positionals=['id'])
    c.flag('--resources', '-r')
    c.flag('--memory')
    c.flag('--memory-reservation', dest='memory_reservation')
    c.flag('--memory-swap', dest='memory_swap')
    c.flag('--cpu-shares', dest='cpu_shares', kind="int")
    c.flag('--cpu-quota', dest='cpu_quota', kind="int")
    c.flag('--cpu-period', dest='cpu_period', kind="int")
    c.flag('--cpuset-cpus', dest='cpuset_cpus')
    c.flag('--cpuset-mems', dest='cpuset_mems')
    c.flag('--pids-limit', dest='pids_limit', kind="int")
    c.flag('--blkio-weight', dest='blkio_weight', kind="int")
    return c


def parse_size(s: str) -> int:
    s = s.strip().lower()
    if s == "-1":
        return -1
    units = {"b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
    num = s.rstrip("bkmgt")
    suffix = s[len(num):].rstrip("b") or "b"
    if not num.isdigit() or suffix not in units:
        raise RuntimeFailure(f"invalid size {s!r}")
    return int(num) * units[suffix]


def run(ctx, a):
    res = {}
    if a.resources:
        try:
            data = sys.stdin.read() if a.resources == "-" else open(a.resources).read()
            res = json.loads(data)
        except OSError as e:
            raise RuntimeFailure(f"reading {a.resources}: {e.strerror}") from None
        except ValueError as e:
            raise RuntimeFailure(f"invalid resources JSON: {e}") from None
        if not isinstance(res, dict):
            raise RuntimeFailure("invalid resources JSON: must be an object")
    mem = {k: parse_size(v) for k, v in (("limit", a.memory), ("reservation", a.memory_reservation),
                                          ("swap", a.memory_swap)) if v is not None}
    cpu = {k: v for k, v in (("shares", a.cpu_shares), ("quota", a.cpu_quota), ("period", a.cpu_period),
                             ("cpus", a.cpuset_cpus), ("mems", a.cpuset_mems)) if v is not None}
    if mem:
        res.setdefault("memory", {}).update(mem)
    if cpu:
        res.setdefault("cpu", {}).update(cpu)
    if a.pids_limit is not None:
        res["pids"] = {"limit": a.pids_limit}
    if a.blkio_weight is not None:
        res.setdefault("blockIO", {})["weight"] = a.blkio_weight
    ctx.runtime.update(a.id, res)
    return 0
