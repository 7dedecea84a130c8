"""Runtime verbs the shim can do itself when the runtime is dockyard-runtime.

`start`, `delete`, `kill`, `pause` and `resume` need no new namespaces: they open the exec fifo,
send signals and read or remove cgroup and state files. Doing them in a worker thread of the
shim instead of spawning `dockyard-runtime VERB` saves a Python start-up (15-25 ms) on every
`docker run`/`rm`. `create` and `exec` still spawn the runtime: they fork into namespaces, which
the shim's own process must never do.
"""
from __future__ import annotations

import asyncio
import os

from .runner import Result

VERBS = frozenset(("start", "delete", "kill", "pause", "resume"))


def handles(binary: str, global_args, args: tuple[str, ...]) -> bool:
    return (os.path.basename(binary) == "dockyard-runtime" and not global_args and bool(args)
            and args[0] in VERBS)


def _call(root: str, log_path: str | None, args: tuple[str, ...]) -> Result:
    from ..runtime.commands.kill import parse_signal
    from ..runtime.container import Runtime
    from ..runtime.errors import RuntimeFailure
    from ..runtime.log import Log

    log = Log(log_path, "json")
    rt = Runtime(root, log)
    verb, rest = args[0], list(args[1:])
    try:
        if verb == "start":
            rt.start(rest[-1])
        elif verb == "delete":
            rt.delete(rest[-1], force="--force" in rest)
        elif verb == "kill":
            all_ = "--all" in rest
            pos = [a for a in rest if not a.startswith("-")]
            rt.kill(pos[0], parse_signal(pos[1] if len(pos) > 1 else "TERM"), all_)
        elif verb == "pause":
            rt.pause(rest[-1])
        elif verb == "resume":
            rt.resume(rest[-1])
    except (RuntimeFailure, OSError, ValueError) as e:
        msg = str(e)
        log.error(msg)
        return Result(1, b"", msg)
    return Result(0, b"", "")


async def run(root: str, log_path: str | None, args: tuple[str, ...]) -> Result:
    return await asyncio.to_thread(_call, root, log_path, args)
