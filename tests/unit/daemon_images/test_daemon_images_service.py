"""The daemon's ImageService against a real registry: pull (dockerd's progress), list/inspect/history
shapes (swagger), tag and remove semantics, save/load, push, prune, import, unpack once per chain."""
from __future__ import annotations

import base64
import io
import json
import os
import socket
import tarfile
import threading
from pathlib import Path

import pytest

from dockyard.daemon.images import errors as imgerrors
from dockyard.daemon.images import jsonmessage as jm
from dockyard.daemon.images.errors import Cancelled
from dockyard.images.base import make_busybox
from dockyard.images.errors import ImageConflict, ImageError, ImageNotFound, InvalidArgument
from dockyard.registry import errors as regerrors
from dockyard.registry import push as regpush
from dockyard.snapshots.snapshotter import Kind

SWAGGER = Path(os.environ.get("DOCKYARD_SHARED", "/work/shared")) / "reference" / "moby-api" / "v1.41.yaml"


def _nullable(schema):
    """Swagger 2 → JSON schema; Go sends null for nil slices/maps unless x-nullable: false."""
    if isinstance(schema, list):
        return [_nullable(x) for x in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _nullable(v) for k, v in schema.items() if not k.startswith("x-") and k != "example"}
    if "type" in out and schema.get("x-nullable") is not False and isinstance(out["type"], str):
        out["type"] = [out["type"], "null"]
    return out


@pytest.fixture(scope="module")
def api_schema():
    if not SWAGGER.exists():
        pytest.skip(f"moby swagger reference not found at {SWAGGER}")
    import jsonschema
    import yaml

    with open(SWAGGER) as f:
        doc = yaml.safe_load(f)
    defs = _nullable(doc["definitions"])

    def validate(obj, name):
        jsonschema.Draft4Validator({"definitions": defs, "$ref": f"#/definitions/{name}"}).validate(obj)
        extra = set(obj) - set(doc["definitions"][name]["properties"])
        assert not extra, f"fields not in the {name} schema: {extra}"

    return validate


def statuses(msgs):
    return [m.get("status") for m in msgs]


@pytest.fixture
def pulled(make_service, remote_busybox):
    ref, image_id = remote_busybox
    events = []
    svc = make_service(events=lambda *e: events.append(e))
    msgs = []
    svc.pull(ref, progress=msgs.append)
    return svc, ref, image_id, msgs, events


def test_pull_reports_like_dockerd_and_registers_after_unpack(pulled):
    svc, ref, image_id, msgs, events = pulled
    repo = ref.split("/", 1)[1].rsplit(":", 1)[0]
    assert msgs[0] == {"status": f"Pulling from {repo}", "id": "latest"}  # no progressDetail, as dockerd
    layer = svc.get(ref).layers[0]
    sid = layer.digest[7:19]
    seq = [(m["status"], m.get("id")) for m in msgs]
    for st in ("Pulling fs layer", "Verifying Checksum", "Download complete", "Pull complete"):
        assert (st, sid) in seq
    assert seq.index(("Download complete", sid)) < seq.index(("Pull complete", sid))
    extracting = [m for m in msgs if m["status"] == "Extracting"]
    assert extracting[-1]["progressDetail"] == {"current": layer.size, "total": layer.size}
    img = svc.get(ref)
    digest = img.repo_digests[0].split("@", 1)[1]
    assert msgs[-2:] == [{"status": f"Digest: {digest}"},
                         {"status": f"Status: Downloaded newer image for {ref}"}]
    assert img.id == image_id and img.repo_tags == [ref]
    assert ("image", "pull", ref, {"name": ref.rsplit(":", 1)[0]}) in events
    # the wire form: Go field order, dockerd's progress text, \r\n line ends
    line = jm.encode(next(m for m in msgs if m["status"] == "Downloading" and
                          m["progressDetail"]["current"] == m["progressDetail"]["total"]))
    assert line.startswith(b'{"status":"Downloading","progressDetail":{"current":') and line.endswith(b'"}\r\n')
    assert b'"progress":"[==================================================\\u003e]' in line


def test_second_pull_is_up_to_date_without_layer_lines(pulled):
    svc, ref, _, _, _ = pulled
    msgs = []
    out = svc.pull(ref, progress=msgs.append)
    assert statuses(msgs)[0].startswith("Pulling from ")
    assert statuses(msgs)[1:] == [msgs[1]["status"], f"Status: Image is up to date for {ref}"]
    assert msgs[1]["status"].startswith("Digest: sha256:")
    assert out[0].updated is False


def test_unpack_happens_once_per_chain(pulled):
    svc, ref, _, _, _ = pulled
    img = svc.get(ref)
    assert svc.unpacker.applied == len(img.layers) == 1
    top = svc.unpack(ref)
    assert top == img.chain_ids[-1]
    assert svc.snapshotter.stat(top).kind == Kind.COMMITTED
    assert svc.unpack(img.id) == top and svc.unpacker.applied == 1
    svc.pull(ref)
    assert svc.unpacker.applied == 1
    # a second image on the same layer (another tag) shares the chain
    svc.tag(ref, "other", "x")
    assert svc.unpack("other:x") == top and svc.unpacker.applied == 1


def test_pull_of_a_missing_image_says_so_before_any_output(make_service, registry):
    svc = make_service()
    msgs = []
    with pytest.raises(regerrors.NotFound) as ei:
        svc.pull(f"{registry.host}/nope/nothing", tag="1", progress=msgs.append)
    assert str(ei.value) == (f"manifest for {registry.host}/nope/nothing:1 not found: "
                             "manifest unknown: manifest unknown")
    assert imgerrors.http_status(ei.value) == 404
    assert msgs == []  # so the route can answer a plain 404
    assert svc.list() == []


def test_cancelled_pull_leaves_nothing(make_service, remote_busybox):
    ref, _ = remote_busybox
    svc = make_service()
    cancel = threading.Event()

    def progress(m):
        if m.get("status") == "Pulling fs layer":
            cancel.set()  # the client went away while downloading

    with pytest.raises(Cancelled):
        svc.pull(ref, progress=progress, cancel=cancel)
    assert svc.list() == [] and list(svc.snapshotter.walk()) == []
    svc.pull(ref)  # a later pull works
    assert svc.get(ref).repo_tags == [ref]


def test_list_inspect_history_match_swagger(pulled, api_schema):
    svc, ref, image_id, _, _ = pulled
    listed = svc.list()
    assert len(listed) == 1
    api_schema(listed[0], "ImageSummary")
    assert listed[0]["Id"] == image_id and listed[0]["RepoTags"] == [ref]
    assert listed[0]["RepoDigests"][0].startswith(ref.rsplit(":", 1)[0] + "@sha256:")
    info = svc.inspect(ref)
    api_schema(info, "ImageInspect")
    assert info["GraphDriver"]["Name"] in ("overlay2", "vfs")
    assert os.path.isdir(info["GraphDriver"]["Data"]["UpperDir"])
    assert os.path.isfile(os.path.join(info["GraphDriver"]["Data"]["UpperDir"], "bin", "busybox"))
    hist = svc.history(ref)
    for item in hist:
        api_schema(item, "ImageHistoryResponseItem")
    assert hist[0]["Id"] == image_id and hist[-1]["Id"] == "<missing>"
    assert svc.list(filters={"reference": ["nomatch*"]}) == []
    with pytest.raises(InvalidArgument):
        svc.list(filters={"bogus": ["1"]})


def test_tag_and_remove_semantics(pulled):
    svc, ref, image_id, _, events = pulled
    assert svc.tag(ref, "mine/app", "v1") == "mine/app:v1"
    assert ("image", "tag", image_id, {"name": "mine/app:v1"}) in events
    with pytest.raises(InvalidArgument):
        svc.tag(ref, "Bad Name")
    with pytest.raises(ImageNotFound, match="No such image: nope:latest"):
        svc.remove("nope")
    assert svc.remove("mine/app:v1") == [{"Untagged": "mine/app:v1"}]
    # a container using the image blocks removal by ID, with docker's messages
    svc.in_use = lambda iid: [("c" * 64, True)] if iid == image_id else []
    with pytest.raises(ImageConflict, match=r"\(cannot be forced\) - image is being used by running container cccc"):
        svc.remove(image_id[7:19], force=True)
    svc.in_use = lambda iid: [("d" * 64, False)] if iid == image_id else []
    with pytest.raises(ImageConflict, match=r"\(must be forced\) - image is being used by stopped container dddd"):
        svc.remove(image_id[7:19])
    svc.in_use = None
    chain = svc.get(image_id).chain_ids[-1]
    out = svc.remove(ref)
    assert out[0] == {"Untagged": ref} and {"Deleted": image_id} in out and {"Deleted": chain} in out
    assert svc.list() == []
    assert list(svc.snapshotter.walk()) == []  # the layer's snapshot went with the image
    assert ("image", "delete", image_id, {"name": image_id}) in events


def test_save_load_round_trip(pulled):
    svc, ref, image_id, _, events = pulled
    buf = io.BytesIO()
    svc.save([ref], buf)
    names = tarfile.open(fileobj=io.BytesIO(buf.getvalue())).getnames()
    assert "manifest.json" in names and f"{image_id[7:]}.json" in names
    svc.remove(ref)
    msgs = []
    lines = svc.load(io.BytesIO(buf.getvalue()), progress=msgs.append)
    assert lines == [f"Loaded image: {ref}"] and msgs == [{"stream": f"Loaded image: {ref}\n"}]
    assert svc.get(ref).id == image_id
    assert ("image", "load", image_id, {"name": ref}) in events
    with pytest.raises(ImageNotFound):
        svc.save(["nope:1"], io.BytesIO())
    bad = io.BytesIO(b"this is not a tar archive" * 40)
    with pytest.raises(ImageError, match="invalid image archive"):
        svc.load(bad)


def test_push_to_a_second_repository_then_pull_it(pulled, make_service, registry):
    svc, ref, image_id, _, events = pulled
    second = f"{registry.host}/team/copy:2"
    svc.tag(ref, second)
    msgs = []
    res = svc.push(second, progress=msgs.append)
    manifest = svc.get(image_id).manifest.digest
    assert msgs[0] == {"status": f"The push refers to repository [{registry.host}/team/copy]"}
    layer_msgs = [m["status"] for m in msgs if m.get("id")]
    assert layer_msgs[0] == "Preparing"
    assert any(s.startswith("Mounted from") or s in ("Pushed", "Layer already exists") for s in layer_msgs)
    size = svc.content.size(manifest)
    assert msgs[-2] == {"status": f"2: digest: {manifest} size: {size}"}
    assert msgs[-1] == {"progressDetail": {}, "aux": {"Tag": "2", "Digest": manifest, "Size": size}}
    assert res == [{"Tag": "2", "Digest": manifest, "Size": size}]
    assert f"{registry.host}/team/copy@{manifest}" in svc.get(image_id).repo_digests
    assert ("image", "push", second, {"name": f"{registry.host}/team/copy"}) in events
    # pushing again: every layer exists
    msgs = []
    svc.push(f"{registry.host}/team/copy", "2", progress=msgs.append)
    assert "Layer already exists" in statuses(msgs)
    other = make_service("other")
    other.pull(second)
    assert other.get(second).id == image_id
    with pytest.raises(ImageNotFound, match="An image does not exist locally with the tag: "):
        svc.push(f"{registry.host}/team/absent")


def test_pull_all_tags(pulled, make_service, registry):
    svc, ref, image_id, _, _ = pulled
    repo = f"{registry.host}/multi/tags"
    for t in ("a", "b"):
        svc.tag(ref, repo, t)
        svc.push(repo, t)
    other = make_service("other")
    msgs = []
    other.pull(repo, all_tags=True, progress=msgs.append)
    assert sorted(other.get(image_id).repo_tags) == [f"{repo}:a", f"{repo}:b"]
    assert msgs[-1] == {"status": f"Status: Downloaded newer image for {repo}"}


def test_prune_dangling_and_all(pulled):
    svc, ref, image_id, _, events = pulled
    dangling = svc.import_(io.BytesIO(_rootfs_tar({"etc/x": b"1"})), repo="dang")
    svc.store.untag("dang:latest")
    chain = svc.unpack(dangling.id)
    res = svc.prune()
    assert res["ImagesDeleted"][0] == {"Deleted": dangling.id} and res["SpaceReclaimed"] > 0
    assert svc.store.exists(image_id) and not svc.store.exists(dangling.id)
    assert chain not in {i.name for i in svc.snapshotter.walk()}
    assert ("image", "prune", "", {"reclaimed": str(res["SpaceReclaimed"])}) in events
    res = svc.prune({"dangling": ["false"]})
    assert {"Untagged": ref} in res["ImagesDeleted"] and {"Deleted": image_id} in res["ImagesDeleted"]
    assert svc.list() == []
    with pytest.raises(InvalidArgument):
        svc.prune({"nope": ["1"]})


def _rootfs_tar(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for name, data in files.items():
            ti = tarfile.TarInfo(name)
            ti.size, ti.mode = len(data), 0o644
            tf.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def test_import_with_changes_message_and_platform(make_service):
    svc = make_service()
    msgs = []
    img = svc.import_(io.BytesIO(_rootfs_tar({"hello": b"world"})), repo="imp/app", tag="1",
                      changes=["ENV A=1", 'CMD ["/hello"]'], platform="linux/arm64", progress=msgs.append)
    assert msgs == [{"status": img.id}]
    info = svc.inspect("imp/app:1")
    assert info["Architecture"] == "arm64" and info["Os"] == "linux"
    assert info["Config"]["Env"] == ["A=1"] and info["Config"]["Cmd"] == ["/hello"]
    assert info["Comment"] == "Imported from -"
    assert svc.history("imp/app:1")[0]["Comment"] == "Imported from -"
    img2 = svc.import_(io.BytesIO(_rootfs_tar({"x": b"y"})), message="mine")
    assert svc.inspect(img2.id)["Comment"] == "mine" and svc.get(img2.id).repo_tags == []
    blobs_before = set(svc.content.walk())
    with pytest.raises(InvalidArgument):
        svc.import_(io.BytesIO(_rootfs_tar({"x": b"y"})), repo="UPPER")
    with pytest.raises(InvalidArgument):
        svc.import_(io.BytesIO(_rootfs_tar({"x": b"y"})), platform="linux/amd64/v1/extra")
    with pytest.raises(Exception, match="import"):
        svc.import_(io.BytesIO(b"\x00garbage" * 300))
    assert set(svc.content.walk()) == blobs_before  # failed imports leave no blob


def test_login_checks_credentials_without_storing(make_service, regh, tmp_path, monkeypatch):
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "dcfg"))
    d = tmp_path / "htreg"
    d.mkdir()
    (d / "htpasswd").write_text(regh.htpasswd_line("bob", "builder") + "\n")
    reg = regh.start_registry(str(d), auth={"htpasswd": {"realm": "basic-realm", "path": str(d / "htpasswd")}})
    try:
        svc = make_service()
        ok = svc.auth({"username": "bob", "password": "builder", "serveraddress": reg.host})
        assert ok == {"IdentityToken": "", "Status": "Login Succeeded"}
        with pytest.raises(regerrors.Unauthorized) as ei:
            svc.auth({"username": "bob", "password": "wrong", "serveraddress": reg.host})
        assert imgerrors.http_status(ei.value) == 401
        assert "401 Unauthorized" in str(ei.value)
        assert not (tmp_path / "dcfg").exists()  # the daemon stores nothing
        # credentials from X-Registry-Auth reach the registry on push and pull
        make_busybox(svc.store, f"{reg.host}/priv/bb:1")
        with pytest.raises(regerrors.RegistryError):
            svc.push(f"{reg.host}/priv/bb:1")
        auth = svc.parse_auth(_header({"username": "bob", "password": "builder", "serveraddress": reg.host}))
        svc.push(f"{reg.host}/priv/bb:1", auth=auth)
        other = make_service("other")
        other.pull(f"{reg.host}/priv/bb:1", auth=auth)
        assert other.get(f"{reg.host}/priv/bb:1")
    finally:
        regh.stop_registry(reg)


def _header(doc) -> str:
    return base64.urlsafe_b64encode(json.dumps(doc).encode()).decode()


def test_registry_auth_header_decoding(make_service):
    svc = make_service()
    assert not svc.parse_auth("e30=").creds  # {} as the docker CLI sends it
    assert not svc.parse_auth("!!not base64!!").creds and not svc.parse_auth(None).creds
    a = svc.parse_auth(_header({"username": "u", "password": "p+/?", "serveraddress": "r:5000"}).rstrip("="))
    assert (a.creds.username, a.creds.password, a.server) == ("u", "p+/?", "r:5000")
    assert a.for_registry("r:5000") is a.creds and a.for_registry("other:1") is None
    b = svc.parse_auth(_header({"auth": base64.b64encode(b"x:y").decode()}))
    assert (b.creds.username, b.creds.password) == ("x", "y") and b.for_registry("any") is b.creds
    t = svc.parse_auth(_header({"identitytoken": "tok"}))
    assert t.creds.identity_token == "tok"


def test_search_errors_name_the_index(make_service, registry):
    svc = make_service()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(regerrors.ConnectionFailed, match=f"127.0.0.1:{port}/v1/search"):
        svc.search(f"127.0.0.1:{port}/x")
    with pytest.raises(regerrors.RegistryError):  # a v2-only registry has no search
        svc.search(f"{registry.host}/x")
    with pytest.raises(InvalidArgument, match="Limit 101 is outside the range of \\[1, 100\\]"):
        svc.search("busybox", limit=101)
    with pytest.raises(InvalidArgument):
        svc.search("")


def test_layers_under_a_container_outlive_a_forced_image_removal(pulled):
    svc, ref, image_id, _, _ = pulled
    top = svc.unpack(ref)
    svc.snapshotter.prepare("container-1", parent=top)  # what the container service does at create
    svc.in_use = lambda iid: [("e" * 64, False)] if iid == image_id else []
    out = svc.remove(ref, force=True)
    assert {"Deleted": image_id} in out and not svc.store.exists(image_id)
    assert svc.snapshotter.stat(top).kind == Kind.COMMITTED  # still under the container
    assert svc.gc_snapshots() == []
    svc.snapshotter.remove("container-1")  # the container is removed
    assert svc.gc_snapshots() == [top]
    assert [i.name for i in svc.snapshotter.walk()] == []


def test_a_layer_that_fails_to_unpack_leaves_no_image_and_no_snapshot(make_service, registry, regh):
    seed = make_service("seed")
    good = regh.make_image(seed.content, [{"a": b"1"}, {"b": b"2"}])
    # the same layers, but the config lies about the second layer's diff_id
    cfg = json.loads(seed.content.read(good.config_digest))
    cfg["rootfs"]["diff_ids"][1] = "sha256:" + "0" * 64
    cbytes = json.dumps(cfg).encode()
    man = json.loads(good.manifest)
    man["config"].update(digest=seed.content.put_bytes(cbytes), size=len(cbytes))
    mdigest = seed.content.put_bytes(json.dumps(man).encode())
    ref = f"{registry.host}/broken/layers:1"
    regpush.push(ref, seed.content, mdigest)
    svc = make_service()
    with pytest.raises(Exception, match="diff_id mismatch"):
        svc.pull(ref)
    assert svc.list() == [] and list(svc.snapshotter.walk()) == []
