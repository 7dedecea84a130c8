"""The registry's storage: blobs stored once, repository links/tags/referrers, upload sessions."""
import hashlib
import json
import os
import time

import pytest

from dockyard.registry.server.storage import Storage, StorageLocked
from dockyard.registry.server.storage.uploads import DigestMismatch, UploadBusy, UploadGone


def sha(data: bytes, algo: str = "sha256") -> str:
    return f"{algo}:{hashlib.new(algo, data).hexdigest()}"


@pytest.fixture
def st(tmp_path):
    return Storage(tmp_path / "root", sync=True)


def test_blobs(st):
    d = sha(b"hello")
    assert st.blobs.size(d) is None and st.blobs.open(d) is None and st.blobs.read(d, 10) is None
    assert st.blobs.put_bytes(b"hello", d) is True
    assert st.blobs.put_bytes(b"hello", d) is False
    path = st.blobs.path(d)
    assert path.parent.name == d[7:9] and oct(path.stat().st_mode & 0o777) == "0o444"
    assert st.blobs.size(d) == 5 and st.blobs.read(d, 10) == b"hello"
    with pytest.raises(ValueError, match="larger than 3"):
        st.blobs.read(d, 3)
    d512 = sha(b"x", "sha512")
    st.blobs.put_bytes(b"x", d512)
    assert sorted(st.blobs.walk()) == sorted([(d, 5), (d512, 1)])
    assert st.blobs.remove(d) and not st.blobs.has(d) and not st.blobs.remove(d)
    assert os.listdir(st.tmp) == []


def test_repository_links_tags_and_referrers(st):
    r = st.repos
    d1, d2 = sha(b"1"), sha(b"2")
    assert not r.exists("a/b") and r.tags("a/b") == [] and r.tag("a/b", "x") is None
    r.link_blob("a/b", d1)
    assert r.exists("a/b") and r.has_blob("a/b", d1) and not r.has_blob("a", d1)
    assert list(r.blobs("a/b")) == [d1]
    r.link_manifest("a/b", d2, "application/vnd.oci.image.manifest.v1+json")
    assert r.manifest_type("a/b", d2) == "application/vnd.oci.image.manifest.v1+json"
    assert r.has_blob("a/b", d2)    # a manifest can be fetched as a blob of its repository
    r.set_tag("a/b", "v1", d2)
    r.set_tag("a/b", "latest", d2)
    r.set_tag("a/b", "other", d1)
    assert r.tags("a/b") == ["latest", "other", "v1"] and r.tags_of("a/b", d2) == ["latest", "v1"]
    assert r.tag("a/b", "v1") == d2 and r.delete_tag("a/b", "v1") and not r.delete_tag("a/b", "v1")
    (r.dir("a/b") / "_tags" / "corrupt").write_text("not a digest")
    assert r.tag("a/b", "corrupt") is None
    desc = {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": d2, "size": 10}
    r.add_referrer("a/b", d1, desc)
    assert r.referrers("a/b", d1) == [desc] and list(r.subjects("a/b")) == [(d1, d2)]
    assert r.unlink_manifest("a/b", d2)
    assert r.referrers("a/b", d1) == []       # only manifests still in the repository are listed
    assert r.remove_referrer("a/b", d1, d2) and os.listdir(r.dir("a/b") / "_referrers") == []
    assert list(r.subjects("a/b")) == []
    r.link_blob("a", d1)
    r.link_blob("z/y/x", d1)
    assert r.names() == ["a", "a/b", "z/y/x"]
    assert r.unlink_blob("a/b", d1) and not r.unlink_blob("a/b", d1)


def test_upload_lifecycle(st):
    u = st.uploads
    data = os.urandom(3000)
    uuid = u.create("repo")
    info = u.info(uuid)
    assert info.name == "repo" and time.time() - info.started < 60 and u.size(uuid) == 0
    with u.open(uuid) as s:
        assert s.hash_ready() is False
        s.rehash()
        s.write(data[:1000])
        with pytest.raises(UploadBusy):
            u.open(uuid)
    assert u.size(uuid) == 1000
    with u.open(uuid) as s:          # the running hash was kept between requests
        assert s.hash_ready()
        s.write(data[1000:])
        assert s.commit(sha(data)) is True
    assert st.blobs.read(sha(data), 10000) == data
    assert u.info(uuid) is None and u.all() == []
    with pytest.raises(UploadGone):
        u.open(uuid)


def test_upload_hash_is_rebuilt_after_a_restart_and_after_a_rollback(st, tmp_path):
    data = os.urandom(5000)
    uuid = st.uploads.create("r")
    with st.uploads.open(uuid) as s:
        s.rehash()
        s.write(data[:2000])
    fresh = Storage(tmp_path / "root")        # a new process: no hash in memory
    with fresh.uploads.open(uuid) as s:
        assert s.size == 2000 and not s.hash_ready()
        s.rehash()
        s.write(data[2000:4000])
        s.truncate(2000)                      # a chunk that did not match its Content-Range
        assert s.size == 2000 and not s.hash_ready()
        s.rehash()
        s.write(data[2000:])
        assert s.digest("sha512") == sha(data, "sha512")   # another algorithm: hashed again
        with pytest.raises(DigestMismatch) as e:
            s.commit(sha(b"other"))
        assert e.value.got == sha(data)
        s.commit(sha(data, "sha512"))
    assert fresh.blobs.read(sha(data, "sha512"), 10000) == data


def test_write_failure_rolls_back(st, monkeypatch):
    uuid = st.uploads.create("r")
    with st.uploads.open(uuid) as s:
        s.rehash()
        s.write(b"abc")
        real = os.pwrite
        calls = []

        def failing(fd, data, offset):
            calls.append(1)
            if len(calls) == 2:
                raise OSError(28, "No space left on device")
            return real(fd, bytes(data)[:2], offset)
        monkeypatch.setattr(os, "pwrite", failing)
        with pytest.raises(OSError):
            s.write(b"defg")
        monkeypatch.undo()
        assert s.size == 3 and os.fstat(s.fd).st_size == 3   # the partial write was cut off
        s.write(b"defg")
        s.commit(sha(b"abcdefg"))


def test_purge_and_cancel(st):
    u = st.uploads
    old, busy, new = u.create("r"), u.create("r"), u.create("r")
    past = time.time() - 7200
    for uuid in (old, busy):
        for f in ("data", "info", ""):
            os.utime(u.root / uuid / f, (past, past))
    with u.open(busy):
        assert u.purge(3600) == [old]     # the one in use stays
    assert u.all() == sorted([busy, new])
    assert u.cancel(new) and not u.cancel(new) and not u.cancel("../../etc")
    assert u.info("../x") is None


def test_locks_and_tmp_cleanup(st, tmp_path):
    st.lock(exclusive=False)
    other = Storage(tmp_path / "root")
    other.lock(exclusive=False)                 # several servers may share a root
    gc = Storage(tmp_path / "root")
    with pytest.raises(StorageLocked, match="in use by a running server"):
        gc.lock(exclusive=True)
    st.unlock()
    other.unlock()
    gc.lock(exclusive=True)
    with pytest.raises(StorageLocked, match="garbage collection"):
        Storage(tmp_path / "root").lock(exclusive=False)
    gc.unlock()
    stale, fresh = st.tmp / "w-stale", st.tmp / "w-fresh"
    stale.write_bytes(b"left by a crash")
    fresh.write_bytes(b"being written")
    os.utime(stale, (time.time() - 7200,) * 2)
    assert st.clean_tmp() == 1 and not stale.exists() and fresh.exists()


def test_manifest_links_keep_media_types(st):
    d = sha(b"m")
    st.repos.link_manifest("r", d, "application/vnd.docker.distribution.manifest.v2+json")
    st.repos.link_manifest("r", d, "application/vnd.docker.distribution.manifest.v2+json")
    assert json.dumps(st.repos.manifest_type("r", d)) == '"application/vnd.docker.distribution.manifest.v2+json"'
