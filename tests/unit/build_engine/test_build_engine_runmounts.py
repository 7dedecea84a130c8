"""RUN --mount: cache directories, binds resolved inside their tree, throwaway rw copies."""
import os

import pytest

from dockyard.build.engine.errors import BuildError
from dockyard.build.engine.runmounts import RunMounts
from dockyard.build.engine.runner import RunSpec
from dockyard.build.mounts import parse_mount


def mounts(*specs):
    return tuple(parse_mount(s, lambda w: w) for s in specs)


@pytest.fixture
def dirs(tmp_path):
    ctx = tmp_path / "ctx"
    (ctx / "src").mkdir(parents=True)
    (ctx / "src" / "f").write_text("f")
    os.symlink("/etc", ctx / "hostetc")
    stage = tmp_path / "stage"
    (stage / "out").mkdir(parents=True)
    return {"ctx": str(ctx), "cache": str(tmp_path / "cache"), "scratch": str(tmp_path / "scratch"),
            "stage": str(stage)}


def make(dirs, *specs, workdir="/w"):
    return RunMounts(mounts(*specs), workdir, dirs["ctx"], dirs["cache"], dirs["scratch"],
                     lambda ref: dirs["stage"] if ref == "builder" else pytest.fail(ref))


@pytest.mark.skipif(os.geteuid() != 0, reason="cache directories are made with the asked owner")
def test_cache_mounts_persist_per_id(dirs):
    m = make(dirs, "type=cache,target=/root/.cache,id=pip,mode=0700,uid=5,gid=6", "type=cache,target=rel")
    api = m.prepare()
    assert api[0]["Target"] == "/root/.cache" and api[0]["ReadOnly"] is False
    assert api[1]["Target"] == "/w/rel" and m.targets == ["/root/.cache", "/w/rel"]
    st = os.stat(api[0]["Source"])
    assert (st.st_mode & 0o777, st.st_uid, st.st_gid) == (0o700, 5, 6)
    m.release()
    again = make(dirs, "type=cache,target=/elsewhere,id=pip").prepare()
    assert again[0]["Source"] == api[0]["Source"]       # same id, same directory
    other = make(dirs, "type=cache,target=/root/.cache").prepare()
    assert other[0]["Source"] != api[0]["Source"]       # the id defaults to the target


def test_locked_cache_holds_a_lock(dirs):
    import fcntl
    m = make(dirs, "type=cache,target=/c,sharing=locked")
    src = m.prepare()[0]["Source"]
    fd = os.open(src + ".lock", os.O_RDWR)
    try:
        with pytest.raises(BlockingIOError):
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        m.release()
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    finally:
        os.close(fd)


def test_binds_from_context_and_stage(dirs):
    m = make(dirs, "type=bind,source=src,target=/mnt/src", "type=bind,from=builder,source=/out,target=/o")
    api = m.prepare()
    assert api[0] == {"Type": "bind", "Source": os.path.join(dirs["ctx"], "src"), "Target": "/mnt/src",
                      "ReadOnly": True}
    assert api[1]["Source"] == os.path.join(dirs["stage"], "out")


def test_bind_of_a_symlink_out_of_the_context_stays_inside(dirs):
    m = make(dirs, "type=bind,source=hostetc/passwd,target=/x")
    with pytest.raises(BuildError, match="not found in the build context"):
        m.prepare()


def test_rw_binds_write_to_a_throwaway_copy(dirs):
    m = make(dirs, "type=bind,source=src,target=/s,rw")
    api = m.prepare()
    assert api[0]["ReadOnly"] is False and api[0]["Source"].startswith(dirs["scratch"])
    assert open(os.path.join(api[0]["Source"], "f")).read() == "f"
    m.release()
    assert not os.path.exists(api[0]["Source"])


def test_unsupported_and_bad_mounts(dirs):
    with pytest.raises(BuildError, match="type=secret is not supported"):
        make(dirs, "type=secret,id=x").prepare()
    with pytest.raises(BuildError, match="cannot mount over the root"):
        make(dirs, "type=tmpfs,target=/").prepare()
    assert make(dirs, "type=tmpfs,target=/t,size=1m").prepare() == [
        {"Type": "tmpfs", "Target": "/t", "TmpfsOptions": {"SizeBytes": 1 << 20}}]


def test_run_container_request():
    body = RunSpec("sha256:x", ["/bin/sh", "-c", "true"], ["A=1"], "nobody", "/w", "none",
                   [{"Type": "tmpfs", "Target": "/t"}], ["h:1.2.3.4"]).create_body()
    assert body["Entrypoint"] == [] and body["Cmd"] == ["/bin/sh", "-c", "true"]
    assert body["Healthcheck"] == {"Test": ["NONE"]} and body["User"] == "nobody" and body["WorkingDir"] == "/w"
    assert body["HostConfig"] == {"NetworkMode": "none", "AutoRemove": False, "Mounts": [{"Type": "tmpfs",
                                  "Target": "/t"}], "ExtraHosts": ["h:1.2.3.4"]}
