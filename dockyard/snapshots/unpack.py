"""Unpack an image's layers into a snapshotter, each layer once, keyed by chain ID.

chainID(L0) = diffID(L0); chainID(Ln) = sha256(chainID(Ln-1) + " " + diffID(Ln)).
A layer whose chain ID is already committed is reused. Otherwise it is
applied into a fresh active snapshot, its diff_id verified against the image
config, and only then committed under the chain ID; on any failure the active
snapshot is removed, so nothing partial is ever visible.
"""
from __future__ import annotations

import hashlib
import os
from typing import Callable, Sequence

from ..images import digest as dg
from .apply import ApplyResult, LayerError, Limits, apply_layer
from .snapshotter import AlreadyExists, Kind, NotFound, Snapshotter


def chain_ids(diff_ids: Sequence[str]) -> list[str]:
    """The chain ID of every prefix of the layer list."""
    out: list[str] = []
    for d in diff_ids:
        dg.validate(d)
        if not out:
            out.append(d)
        else:
            out.append("sha256:" + hashlib.sha256(f"{out[-1]} {d}".encode()).hexdigest())
    return out


def chain_id(diff_ids: Sequence[str]) -> str:
    ids = chain_ids(diff_ids)
    if not ids:
        raise ValueError("an image needs at least one layer for a chain ID")
    return ids[-1]


def _committed(sn: Snapshotter, name: str) -> bool:
    try:
        return sn.stat(name).kind == Kind.COMMITTED
    except NotFound:
        return False


def unpack(snapshotter: Snapshotter, layers: Sequence[tuple[str | os.PathLike, str]],
           limits: Limits = Limits(), on_applied: Callable[[int, ApplyResult], None] | None = None) -> str:
    """Apply layers [(blob path, expected diff_id)], bottom first; return the top chain ID.

    ``on_applied(index, result)`` is told of each layer applied (not of those already there)."""
    if not layers:
        raise ValueError("unpack needs at least one layer")
    chains = chain_ids([d for _, d in layers])
    parent = None
    for i, ((blob, diff_id), chain) in enumerate(zip(layers, chains)):
        if not _committed(snapshotter, chain):
            result = _unpack_one(snapshotter, blob, diff_id, chain, parent, limits)
            if on_applied is not None:
                on_applied(i, result)
        parent = chain
    return chains[-1]


def _unpack_one(sn: Snapshotter, blob, diff_id: str, chain: str, parent: str | None, limits: Limits) -> ApplyResult:
    key = f"extract-{os.getpid()}-{os.urandom(6).hex()} {chain}"
    sn.prepare(key, parent)
    try:
        target = sn.layers(key)
        try:
            result = apply_layer(blob, target.upper, whiteouts=target.whiteouts, lowers=target.lowers,
                                 limits=limits, expected_diff_id=diff_id)
        except LayerError as e:
            raise LayerError(f"unpacking layer {diff_id}: {e}") from None
        try:
            sn.commit(chain, key)
        except AlreadyExists:
            if not _committed(sn, chain):  # the name is held by something else
                raise
            sn.remove(key)  # someone else unpacked the same layer meanwhile
    except BaseException:
        try:
            sn.remove(key)
        except NotFound:
            pass
        raise
    return result
