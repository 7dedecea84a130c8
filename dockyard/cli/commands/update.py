"""dockyard update: change resources or the restart policy of containers."""
from __future__ import annotations

from ..bulk import path
from ..errors import CLIError
from ..opts.resources import parse_restart

USAGE = "[OPTIONS] CONTAINER [CONTAINER...]"
SHORT = "Update configuration of one or more containers"
ARGS = (1, None)


def flags(fs):
    fs.add("blkio-weight", None, "uint", help="Block IO (relative weight), between 10 and 1000, or 0 to disable")
    fs.add("cpu-period", None, "int", help="Limit CPU CFS (Completely Fair Scheduler) period")
    fs.add("cpu-quota", None, "int", help="Limit CPU CFS (Completely Fair Scheduler) quota")
    fs.add("cpu-rt-period", None, "int", help="Limit the CPU real-time period in microseconds")
    fs.add("cpu-rt-runtime", None, "int", help="Limit the CPU real-time runtime in microseconds")
    fs.add("cpu-shares", "c", "int", help="CPU shares (relative weight)")
    fs.add("cpus", None, "nanocpus", help="Number of CPUs")
    fs.string("cpuset-cpus", None, help="CPUs in which to allow execution (0-3, 0,1)")
    fs.string("cpuset-mems", None, help="MEMs in which to allow execution (0-3, 0,1)")
    fs.add("memory", "m", "bytes", help="Memory limit")
    fs.add("memory-reservation", None, "bytes", help="Memory soft limit")
    fs.add("memory-swap", None, "string", help="Swap limit equal to memory plus swap: -1 to enable unlimited swap",
           metavar="bytes")
    fs.add("pids-limit", None, "int", help="Tune container pids limit (set -1 for unlimited)")
    fs.string("restart", None, help="Restart policy to apply when a container exits")


def main(app, opts, args):
    if not opts.changed:
        raise CLIError("you must provide one or more flags when using this command")
    body: dict = {}
    simple = {"blkio-weight": "BlkioWeight", "cpu-period": "CpuPeriod", "cpu-quota": "CpuQuota",
              "cpu-rt-period": "CpuRealtimePeriod", "cpu-rt-runtime": "CpuRealtimeRuntime",
              "cpu-shares": "CpuShares", "cpus": "NanoCpus", "cpuset-cpus": "CpusetCpus",
              "cpuset-mems": "CpusetMems", "memory": "Memory", "memory-reservation": "MemoryReservation",
              "pids-limit": "PidsLimit"}
    for flag, key in simple.items():
        if opts.is_set(flag):
            body[key] = getattr(opts, flag.replace("-", "_"))
    if opts.is_set("memory-swap"):
        from ..opts.resources import parse_memory_swap
        try:
            body["MemorySwap"] = parse_memory_swap(opts.memory_swap)
        except ValueError as e:
            raise CLIError(str(e), 125) from None
    if opts.is_set("restart"):
        try:
            body["RestartPolicy"] = parse_restart(opts.restart)
        except ValueError as e:
            raise CLIError(str(e)) from None
    errors = []
    for name in args:
        try:
            resp = app.api.post(path("/containers/{}/update", name), json_body=body) or {}
        except CLIError as e:
            errors.append(e.message)
            continue
        for w in resp.get("Warnings") or []:
            app.err(w)
        app.out(name)
    if errors:
        raise CLIError("\n".join(errors))
    return 0
