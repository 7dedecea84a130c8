"""Copying between a hijacked client connection and a shim attach stream, with detach keys."""
from __future__ import annotations

import asyncio
import logging

from ..http import ClientGone

log = logging.getLogger("dockyard.streams")

_KEYS = {f"ctrl-{c}": ord(c) - 96 for c in "abcdefghijklmnopqrstuvwxyz"}
_KEYS.update({"ctrl-@": 0, "ctrl-[": 27, "ctrl-\\": 28, "ctrl-]": 29, "ctrl-^": 30, "ctrl-_": 31})


def parse_detach_keys(spec: str) -> bytes:
    """Docker's --detach-keys syntax: "ctrl-p,ctrl-q", single characters too."""
    if not spec:
        return b"\x10\x11"
    out = []
    for part in spec.split(","):
        part = part.strip().lower()
        if part in _KEYS:
            out.append(_KEYS[part])
        elif len(part) == 1:
            out.append(ord(part))
        else:
            raise ValueError(f"Unknown character: '{part}'")
    return bytes(out)


async def pump(conn, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, stdin: bool,
               detach_keys: str = "") -> str:
    """Until the output ends ("exited"), the client detaches ("detached") or goes away ("gone")."""
    keys = parse_detach_keys(detach_keys) if stdin else b""
    outcome = "exited"

    async def out():
        while True:
            data = await reader.read(65536)
            if not data:
                return
            await conn.write(data)

    async def inp():
        nonlocal outcome
        matched = 0
        while True:
            data = await conn.read(65536)
            if not data:
                if stdin:
                    try:
                        writer.write_eof()
                    except (OSError, RuntimeError):
                        pass
                await asyncio.Event().wait()  # half-closed: keep the output going
            if not stdin:
                continue
            if keys:
                i = 0
                for i, b in enumerate(data):
                    if b == keys[matched]:
                        matched += 1
                        if matched == len(keys):
                            outcome = "detached"
                            return
                    else:
                        matched = 1 if b == keys[0] else 0
            writer.write(data)
            await writer.drain()

    t_out = asyncio.create_task(out())
    t_in = asyncio.create_task(inp())
    try:
        done, _ = await asyncio.wait({t_out, t_in}, return_when=asyncio.FIRST_COMPLETED)
        for t in done:
            exc = t.exception()
            if isinstance(exc, (ClientGone, ConnectionError)):
                outcome = "gone"
            elif exc is not None:
                log.warning("attach stream: %s", exc)
    finally:
        for t in (t_out, t_in):
            t.cancel()
        writer.close()
        try:
            await conn.close()
        except Exception:
            pass
    return outcome
