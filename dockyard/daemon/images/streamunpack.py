"""Unpacking layers while they download.

A ``StreamUnpack`` is the registry puller's observer: once the manifest and the image config are
known it applies the layers bottom first in a thread of its own, reading each one from its
download as it grows (``registry.growing``) or from the store when it is already there. A layer
is committed only after its diff ID checked out, as in any unpack; the blob's digest is checked by
the puller's commit, and the pull adds no image unless both hold.

It is only a head start: when anything goes wrong (the download starts over or fails, a layer is
bad, the pull is cancelled) it stops, and the pull's own unpack afterwards does what is left (and
reports a bad layer itself). ``new`` lists the chains it committed, for the pull to drop if it fails.
"""
from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Callable

from dockyard.registry.growing import Growing, PullObserver
from dockyard.spec import image as spec

if TYPE_CHECKING:
    from .service import ImageService

log = logging.getLogger("dockyard.daemon.images")


class StreamUnpack(PullObserver):
    def __init__(self, svc: "ImageService"):
        self.svc = svc
        self.new: list[str] = []
        self.error: BaseException | None = None
        self._cond = threading.Condition()
        self._manifest: spec.Manifest | None = None
        self._growing: dict[str, Growing] = {}
        self._stored: set[str] = set()
        self._stop = False
        self._final = False  # the pull is over: no more blobs will come
        self._thread: threading.Thread | None = None

    # -- from the puller's threads ----------------------------------------------------------------
    def manifest(self, m: spec.Manifest) -> None:
        with self._cond:
            if self._thread is not None:
                return
            self._manifest = m
            self._thread = threading.Thread(target=self._run, name="stream-unpack", daemon=True)
            self._thread.start()

    def layer(self, desc: spec.Descriptor, growing: Growing) -> None:
        with self._cond:
            self._growing[desc.digest] = growing
            self._cond.notify_all()

    def blob(self, digest: str) -> None:
        with self._cond:
            self._stored.add(digest)
            self._cond.notify_all()

    # -- from the pull ------------------------------------------------------------------------------
    def finish(self, ok: bool) -> None:
        """Wait for the thread: it completes its work after a pull that succeeded (every blob is
        there then), and stops early after one that failed."""
        with self._cond:
            self._final = True
            if not ok:
                self._stop = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join()

    # -- the thread -----------------------------------------------------------------------------------
    def _wait(self, ready: Callable[[], bool]) -> bool:
        with self._cond:
            while not self._stop and not ready():
                if self._final:
                    return False
                self._cond.wait()
            return not self._stop

    def _run(self) -> None:
        try:
            self._unpack_all()
        except BaseException as e:  # the pull's own unpack redoes (and reports) it
            self.error = e
            log.debug("unpacking while downloading stopped: %s", e)

    def _unpack_all(self) -> None:
        m = self._manifest
        content = self.svc.content
        if not self._wait(lambda: m.config.digest in self._stored):
            return
        diff_ids = spec.ImageConfig.from_json(content.read(m.config.digest)).rootfs.diff_ids
        if len(diff_ids) != len(m.layers):
            return

        def applied(i: int, result) -> None:  # saves adding the image from reading the layer again
            self.svc.store.record_layer(m.layers[i].digest, m.layers[i].media_type, result.diff_id,
                                        result.unpacked_size)

        layers: list[tuple[str, str]] = []
        for desc, diff_id in zip(m.layers, diff_ids):
            d = desc.digest
            if not self._wait(lambda: d in self._stored or d in self._growing):
                return
            source = None
            if d not in self._stored:
                try:
                    source = self._growing[d].reader()
                except FileNotFoundError:  # committed meanwhile
                    if not self._wait(lambda: d in self._stored):
                        return
            if source is None:
                layers.append((str(content.path(d)), diff_id))
                self.svc.unpacker.unpack(layers, new=self.new, on_applied=applied)
                continue
            layers.append(("", diff_id))  # read from ``source``; the layers below are unpacked
            try:
                self.svc.unpacker.unpack_top(layers, source, new=self.new, on_applied=applied)
            finally:
                source.close()
            layers[-1] = (str(content.path(d)) if content.has(d) else "", diff_id)
