"""ps: the container's processes (`ps` output filtered to them, or --format json: a pid list)."""
import json
import subprocess

from ..args import Command
from ..errors import RuntimeFailure


def command():
    c = Command('ps', 'display the processes running inside a container', positionals=['id'], rest='ps_args')
    c.flag('--format', '-f', default='table')
    return c


def run(ctx, a):
    if a.format not in ("table", "json"):
        raise RuntimeFailure(f"invalid format option {a.format!r}: use table or json")
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
