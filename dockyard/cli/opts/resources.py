"""Resource and policy options: ``--cpus``, ``--ulimit``, ``--restart``, ``--memory-swap``, capabilities."""
from __future__ import annotations

ULIMITS = {"core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice", "nofile", "nproc", "rss",
           "rtprio", "rttime", "sigpending", "stack"}


def parse_nanocpus(value: str) -> int:
    """"1.5" → 1500000000; more than 9 decimals is "value is too precise"."""
    from fractions import Fraction
    try:
        f = Fraction(value)
    except (ValueError, ZeroDivisionError):
        raise ValueError(f'failed to parse {value} as a rational number') from None
    nano = f * 1_000_000_000
    if nano.denominator != 1:
        raise ValueError("value is too precise")
    return int(nano)


def parse_ulimit(value: str) -> dict:
    name, eq, limits = value.partition("=")
    if not eq:
        raise ValueError(f"invalid ulimit argument: {value}")
    if name not in ULIMITS:
        raise ValueError(f"invalid ulimit type: {name}")
    vals = limits.split(":")
    if len(vals) > 2:
        raise ValueError(f"too many limit value arguments - {limits}, can only have up to two, `soft[:hard]`")
    try:
        soft = int(vals[0])
        hard = int(vals[1]) if len(vals) == 2 else soft
    except ValueError:
        bad = vals[1] if len(vals) == 2 and not _is_int(vals[1]) else vals[0]
        raise ValueError(f'strconv.ParseInt: parsing "{bad}": invalid syntax') from None
    if hard != -1 and soft > hard:
        raise ValueError(f"ulimit soft limit must be less than or equal to hard limit: {soft} > {hard}")
    return {"Name": name, "Hard": hard, "Soft": soft}


def _is_int(s: str) -> bool:
    try:
        int(s)
        return True
    except ValueError:
        return False


def parse_restart(policy: str) -> dict:
    name, colon, count = policy.partition(":")
    if colon and name == "":
        raise ValueError("invalid restart policy format: no policy provided before colon")
    retries = 0
    if count:
        try:
            retries = int(count)
        except ValueError:
            raise ValueError("invalid restart policy format: maximum retry count must be an integer") from None
    return {"Name": name, "MaximumRetryCount": retries}


def parse_memory_swap(value: str) -> int:
    if value == "-1":
        return -1
    from ..units import ram_in_bytes
    return ram_in_bytes(value)


def normalize_capability(cap: str) -> str:
    c = cap.strip().upper()
    if c == "ALL":
        return c
    return c if c.startswith("CAP_") else "CAP_" + c


def effective_caps(add: list[str], drop: list[str]) -> tuple[list[str] | None, list[str] | None]:
    """docker's EffectiveCapAddCapDrop: adding "ALL" trumps other additions, adding wins over dropping."""
    adds = {normalize_capability(c) for c in add if c.strip()}
    drops = {normalize_capability(c) for c in drop if c.strip()}
    if "ALL" in adds:
        adds = {"ALL"}
    cap_drop = sorted(c for c in drops if c not in adds)
    cap_add = sorted(adds)
    return (cap_add or None), (cap_drop or None)
