"""ps: the container's processes (`ps` output filtered to them, or --format json: a pid list)."""
import argparse
import json
import subprocess

from ..errors import RuntimeFailure


def add(sub):
    p = sub.add_parser("ps", help="display the processes running inside a container")
    p.add_argument("--format", "-f", default="table", choices=["table", "json"])
    p.add_argument("id")
    p.add_argument("ps_args", nargs=argparse.REMAINDER)


def run(ctx, a):
    pids = ctx.runtime.pids(a.id)
    if a.format == "json":
        print(json.dumps(pids))
        return 0
    args = a.ps_args or ["-ef"]
    try:
        out = subprocess.run(["ps", *args], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        raise RuntimeFailure(f"running ps: {e}") from None
    lines = out.splitlines()
    if not lines:
        return 0
    header = lines[0].split()
    if "PID" not in header:
        raise RuntimeFailure("ps output has no PID column")
    col = header.index("PID")
    print(lines[0])
    wanted = set(pids)
    for line in lines[1:]:
        fields = line.split()
        if len(fields) > col and fields[col].isdigit() and int(fields[col]) in wanted:
            print(line)
    return 0
