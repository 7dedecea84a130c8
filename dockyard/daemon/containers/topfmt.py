"""``docker top``: the host's ``ps`` output, kept to the container's processes (dockerd's rules).

dockerd runs ``ps ARGS -qPID,PID,...`` (ARGS split on single spaces), or ``ps ARGS`` when ps
refuses ``-q`` with those arguments, then keeps the lines whose PID column is one of the
container's processes (thread lines, PID "-", follow their process). Titles are the first line's
fields; a process row has as many fields as titles, the last one taking the rest of the line.
Field separators are ASCII whitespace only. ``ps_args`` may not redefine the PID column's name.
"""
from __future__ import annotations

import re

_ASCII_WS = "\t\n\f\r "
_REDEFINE = re.compile(r"[\t\n\f\r ]+([^\t\n\f\r ]*)=[\t\n\f\r ]*(PID[^\t\n\f\r ]*)")
_FIELDS = re.compile(r"[^\t\n\f\r ]+")


class TopError(ValueError):
    pass


def validate_ps_args(ps_args: str) -> None:
    for key, value in _REDEFINE.findall(ps_args):
        if key != "pid":
            raise TopError(f'specifying "{key}={value}" is not allowed')


def ps_argv(ps_args: str, pids: list[int], with_pids: bool = True) -> list[str]:
    args = ["ps", *ps_args.split(" ")]
    if with_pids:
        args.append("-q" + ",".join(str(p) for p in pids))
    return args


def fields(line: str) -> list[str]:
    return _FIELDS.findall(line)


def parse_ps(output: str, pids) -> dict:
    """{"Processes": [[...]], "Titles": [...]} (dockerd's key order)."""
    lines = output.split("\n")
    titles = fields(lines[0])
    try:
        pid_index = titles.index("PID")
    except ValueError:
        raise TopError("Couldn't find PID field in ps output") from None
    wanted = set(pids)
    procs: list[list[str]] = []
    previous_kept = False
    for line in lines[1:]:
        if not line:
            continue
        f = fields(line)
        if len(f) <= pid_index:
            continue
        if f[pid_index] == "-":
            if previous_kept:
                procs.append(_row(f, len(titles)))
            continue
        try:
            p = int(f[pid_index])
        except ValueError:
            raise TopError(f"Unexpected pid '{f[pid_index]}'") from None
        previous_kept = p in wanted
        if previous_kept:
            procs.append(_row(f, len(titles)))
    return {"Processes": procs, "Titles": titles}


def _row(f: list[str], n: int) -> list[str]:
    return f[:n - 1] + [" ".join(f[n - 1:])]
