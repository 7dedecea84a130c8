"""Content-store GC: referenced and leased blobs stay, the rest goes."""
from __future__ import annotations

import os
import subprocess
import sys
import time

from images_testlib import add_image

from dockyard.images import digest
from dockyard.spec import image as spec


def test_gc_keeps_referenced_blobs_and_deletes_unreferenced(store):
    img = add_image(store, tags=["a"], layers=[{"x": "1"}, {"y": "2"}])
    idx = spec.Index(manifests=[spec.Descriptor(spec.OCI_MANIFEST, img.manifest.digest,
                                                store.content.size(img.manifest.digest))]).to_json()
    ixd = store.content.put_bytes(idx)
    store.add(img.manifest.digest, index_digest=ixd)
    orphan = store.content.put_bytes(b"nobody uses me")
    referenced = {img.id, img.manifest.digest, ixd, *(x.digest for x in img.layers)}
    assert store.gc() == [orphan]
    assert set(store.content.walk()) == referenced
    assert store.gc() == []
    assert store.get("a").id == img.id


def test_gc_spares_leased_blobs_until_the_lease_ends(store):
    with store.lease() as lease:
        d = store.content.put_bytes(b"in flight")
        lease.add(d)
        assert store.gc() == []
        assert store.content.has(d)
    assert store.gc() == [d]


def test_gc_ignores_leases_of_dead_processes_and_expired_ones(store):
    d = store.content.put_bytes(b"abandoned")
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(proc.stdout)
    with store.db.write() as c:
        c.execute("INSERT INTO leases(id, pid, expires) VALUES ('dead', ?, ?)", (dead_pid, time.time() + 999))
        c.execute("INSERT INTO lease_blobs(lease_id, digest) VALUES ('dead', ?)", (d,))
        c.execute("INSERT INTO leases(id, pid, expires) VALUES ('old', ?, ?)", (os.getpid(), time.time() - 1))
        c.execute("INSERT INTO lease_blobs(lease_id, digest) VALUES ('old', ?)", (d,))
    assert store.gc() == [d]
    with store.db.read() as c:
        assert c.execute("SELECT count(*) FROM leases").fetchone()[0] == 0


def test_gc_grace_period_and_ingests(store):
    d = store.content.put_bytes(b"fresh")
    w = store.content.writer(key="partial")  # an ingest in progress is not a blob yet
    w.write(b"half")
    w.close()
    assert store.gc(grace=3600) == []
    old = time.time() - 7200
    os.utime(store.content.path(d), (old, old))
    assert store.gc(grace=3600) == [d]
    w2 = store.content.writer(key="partial")
    assert w2.offset == 4  # the partial ingest survived GC
    w2.write(b" more")
    assert w2.commit() == digest.of_bytes(b"half more")


def test_rmi_does_not_delete_leased_blobs(store):
    img = add_image(store, tags=["a"])
    with store.lease() as lease:
        lease.add(img.layers[0].digest)
        store.remove("a")
        assert store.content.has(img.layers[0].digest)
        assert not store.content.has(img.id)
    assert store.gc() == [img.layers[0].digest]
