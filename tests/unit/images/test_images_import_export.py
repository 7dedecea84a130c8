"""docker import (with --change) and export of a directory tree."""
from __future__ import annotations

import bz2
import gzip
import io
import os
import stat
import tarfile

import pytest
from images_testlib import layer_tar

from dockyard.images import changes, export, importer
from dockyard.images.errors import InvalidArgument, InvalidImage


def test_import_with_changes_and_message(store):
    tar = layer_tar({"bin/app": "#!/bin/sh\necho hi\n", "etc/conf": "x"})
    img = importer.import_tar(store, io.BytesIO(gzip.compress(tar)), "imported:v1", message="from a tar", changes=[
        'CMD ["/bin/app", "--flag"]', "ENV A=1 B=\"two words\"", "ENV C $A-x", "WORKDIR /srv", "WORKDIR data",
        "EXPOSE 80 8000-8001/udp", "USER nobody", 'LABEL a=b "c d"=e', "VOLUME /data /cache",
        "ENTRYPOINT /bin/app", "STOPSIGNAL SIGTERM", "HEALTHCHECK --interval=5s --retries=3 CMD true",
    ])
    assert img.repo_tags == ["imported:v1"]
    cfg = img.run_config
    assert cfg["Cmd"] == ["/bin/app", "--flag"]  # CMD came first, so ENTRYPOINT keeps it
    assert cfg["Entrypoint"] == ["/bin/sh", "-c", "/bin/app"]
    assert cfg["Env"] == ["A=1", "B=two words", "C=1-x"]
    assert cfg["WorkingDir"] == "/srv/data"
    assert cfg["ExposedPorts"] == {"80/tcp": {}, "8000/udp": {}, "8001/udp": {}}
    assert cfg["User"] == "nobody" and cfg["Labels"] == {"a": "b", "c d": "e"}
    assert cfg["Volumes"] == {"/data": {}, "/cache": {}} and cfg["StopSignal"] == "SIGTERM"
    assert cfg["Healthcheck"] == {"Test": ["CMD-SHELL", "true"], "Interval": 5_000_000_000, "Retries": 3}
    assert img.config["comment"] == "from a tar"
    assert img.config["history"][0]["comment"] == "from a tar"
    assert store.content.read(img.layers[0].digest) == tar  # stored uncompressed: blob digest is the diff ID
    assert img.layers[0].digest == img.diff_ids[0]


@pytest.mark.parametrize("compress", [lambda b: b, gzip.compress, bz2.compress])
def test_import_accepts_compressed_tars(store, compress):
    tar = layer_tar({"f": "1"})
    img = importer.import_tar(store, io.BytesIO(compress(tar)))
    assert img.repo_tags == [] and img.config["history"] and store.content.read(img.layers[0].digest) == tar


def test_import_rejects_bad_input_without_leftovers(store):
    with pytest.raises(InvalidArgument, match="run is not a valid change command"):
        importer.import_tar(store, io.BytesIO(layer_tar({"f": "1"})), changes=["RUN echo"])
    with pytest.raises(InvalidArgument):
        importer.import_tar(store, io.BytesIO(layer_tar({"f": "1"})), ref="Bad Ref")
    with pytest.raises(InvalidImage, match="not a valid tar"):
        importer.import_tar(store, io.BytesIO(b"garbage" * 200))
    assert store.images() == [] and list(store.content.walk()) == []


def test_change_words_follow_dockerfile_quoting():
    env = {"HOME": "/root", "EMPTY": ""}
    assert changes.words("a 'b c' \"d $HOME\" e\\ f", env) == ["a", "b c", "d /root", "e f"]
    assert changes.words("${HOME}/x ${NOPE:-dflt} ${HOME:+set} '$HOME'", env) == ["/root/x", "dflt", "set", "$HOME"]
    assert changes.apply({"Env": ["A=1"]}, ["ENV A=2"])["Env"] == ["A=2"]
    assert changes.apply({}, ["ENTRYPOINT [\"x\"]"])["Cmd"] is None
    assert changes.apply({}, ["HEALTHCHECK NONE"])["Healthcheck"] == {"Test": ["NONE"]}
    assert changes.apply({}, ['VOLUME ["/a b"]'])["Volumes"] == {"/a b": {}}
    for bad in ["EXPOSE 70000", "EXPOSE 80/xyz", "USER", "WORKDIR a b", "ENV 'unterminated", "HEALTHCHECK --bogus=1 CMD x"]:
        with pytest.raises(InvalidArgument):
            changes.apply({}, [bad])


def _tree(root):
    (root / "dir").mkdir()
    (root / "dir" / "file").write_bytes(b"content")
    os.chmod(root / "dir" / "file", 0o4751)
    os.link(root / "dir" / "file", root / "hardlink")
    os.symlink("dir/file", root / "symlink")
    os.mkfifo(root / "fifo")
    os.mkdir(root / "empty", 0o1777)
    os.chmod(root / "empty", 0o1777)
    os.utime(root / "dir" / "file", (1_600_000_000, 1_600_000_000))
    try:
        os.setxattr(root / "dir" / "file", "user.note", b"\xffbinary")
        return True
    except OSError:
        return False


def test_export_dir_preserves_metadata(tmp_path):
    root = tmp_path / "rootfs"
    root.mkdir()
    has_xattr = _tree(root)
    if os.geteuid() == 0:
        os.mknod(root / "null", 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        os.chown(root / "dir" / "file", 1234, 5678, follow_symlinks=False)
        os.chown(root / "symlink", 42, 43, follow_symlinks=False)
        os.chmod(root / "dir" / "file", 0o4751)  # chown cleared the setuid bit
    buf = io.BytesIO()
    export.export_dir(root, buf)
    with tarfile.open(fileobj=io.BytesIO(buf.getvalue())) as tf:
        m = {x.name: x for x in tf.getmembers()}
        assert list(m) == sorted(m, key=lambda n: n.split("/"))
        f = m["dir/file"]
        assert f.isreg() and f.mode == 0o4751 and f.mtime == 1_600_000_000 and f.uname == ""
        assert tf.extractfile(f).read() == b"content"
        assert m["hardlink"].islnk() and m["hardlink"].linkname == "dir/file"
        assert m["symlink"].issym() and m["symlink"].linkname == "dir/file"
        assert m["fifo"].isfifo() and m["empty"].isdir() and m["empty"].mode == 0o1777
        if has_xattr:
            assert f.pax_headers["SCHILY.xattr.user.note"].encode("utf-8", "surrogateescape") == b"\xffbinary"
        if os.geteuid() == 0:
            assert m["null"].ischr() and (m["null"].devmajor, m["null"].devminor) == (1, 3)
            assert (f.uid, f.gid) == (1234, 5678) and (m["symlink"].uid, m["symlink"].gid) == (42, 43)


def test_export_import_round_trip(store, tmp_path):
    root = tmp_path / "rootfs"
    root.mkdir()
    _tree(root)
    buf = io.BytesIO()
    export.export_dir(root, buf)
    img = importer.import_tar(store, io.BytesIO(buf.getvalue()), "rt")
    out = tmp_path / "out"
    with store.content.open(img.layers[0].digest) as f, tarfile.open(fileobj=f) as tf:
        tf.extractall(out, filter="fully_trusted")
    again = io.BytesIO()
    export.export_dir(out, again)
    def summary(data):
        with tarfile.open(fileobj=io.BytesIO(data)) as tf:
            return [(x.name, x.type, x.mode, x.linkname, x.size, x.mtime) for x in tf.getmembers()]
    assert summary(again.getvalue()) == summary(buf.getvalue())


def test_export_errors(tmp_path):
    with pytest.raises(export.ExportError, match="is not a directory"):
        export.export_dir(tmp_path / "missing", io.BytesIO())
