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
    swap = 0
    if opts.is_set("memory-swap"):
        from ..opts.resources import parse_memory_swap
        try:
            swap = parse_memory_swap(opts.memory_swap)
        except ValueError:
            raise CLIError(f"invalid argument \"{opts.memory_swap}\" for \"--memory-swap\" flag: "
                           f"invalid size: '{opts.memory_swap}'", 125) from None
    restart = {"Name": "", "MaximumRetryCount": 0}
    if opts.restart:
        try:
            restart = parse_restart(opts.restart)
        except ValueError as e:
            raise CLIError(str(e)) from None
    # docker sends the whole UpdateConfig: the resources, zero when not given, and the restart policy
    body = {"CpuShares": opts.cpu_shares, "Memory": opts.memory, "NanoCpus": opts.cpus, "CgroupParent": "",
            "BlkioWeight": opts.blkio_weight, "BlkioWeightDevice": None, "BlkioDeviceReadBps": None,
            "BlkioDeviceWriteBps": None, "BlkioDeviceReadIOps": None, "BlkioDeviceWriteIOps": None,
            "CpuPeriod": opts.cpu_period, "CpuQuota": opts.cpu_quota, "CpuRealtimePeriod": opts.cpu_rt_period,
            "CpuRealtimeRuntime": opts.cpu_rt_runtime, "CpusetCpus": opts.cpuset_cpus,
            "CpusetMems": opts.cpuset_mems, "Devices": None, "DeviceCgroupRules": None, "DeviceRequests": None,
            "MemoryReservation": opts.memory_reservation, "MemorySwap": swap, "MemorySwappiness": None,
            "OomKillDisable": None, "PidsLimit": opts.pids_limit if opts.pids_limit != 0 else None,
            "Ulimits": None, "CpuCount": 0, "CpuPercent": 0, "IOMaximumIOps": 0, "IOMaximumBandwidth": 0,
            "RestartPolicy": restart}
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
