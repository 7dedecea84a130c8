"""``docker images`` filters, ``docker history``, and the Engine API shapes (checked against swagger)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from images_testlib import add_image

from dockyard.images import filters
from dockyard.images.errors import InvalidArgument

SWAGGER = Path(os.environ.get("DOCKYARD_SHARED", "/work/shared")) / "reference" / "moby-api" / "v1.41.yaml"


def _nullable(schema):
    """Swagger 2 → JSON schema: Docker's Go types send null for nil slices/maps/pointers unless x-nullable: false."""
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
    yaml = pytest.importorskip("yaml", reason="PyYAML (pyyaml==6.0.3) is needed to read the swagger spec")
    jsonschema = pytest.importorskip("jsonschema")
    with open(SWAGGER) as f:
        doc = yaml.safe_load(f)
    defs = _nullable(doc["definitions"])

    def validate(obj, name):
        schema = {"definitions": defs, "$ref": f"#/definitions/{name}"}
        jsonschema.Draft4Validator(schema).validate(obj)
        extra = set(obj) - set(doc["definitions"][name]["properties"])
        assert not extra, f"fields not in the {name} schema: {extra}"

    validate.defs = doc["definitions"]
    return validate


def test_inspect_matches_swagger(store, make_image, api_schema):
    img = make_image(tags=["app:1"], labels={"a": "b"},
                     extra_config={"comment": "hello", "author": "me", "docker_version": "20.10.24"})
    out = store.inspect("app:1")
    api_schema(out, "ImageInspect")
    assert out["Id"] == img.id and out["RepoTags"] == ["app:1"] and out["RepoDigests"] == []
    assert out["Created"] == "2024-01-02T03:04:05Z"
    assert out["Config"]["Cmd"] == ["sh"] and out["Config"]["Labels"] == {"a": "b"}
    assert out["Config"]["Hostname"] == "" and out["Config"]["Volumes"] is None  # Go's full struct
    assert out["Comment"] == "hello" and out["Author"] == "me" and out["DockerVersion"] == "20.10.24"
    assert out["RootFS"] == {"Type": "layers", "Layers": img.diff_ids}
    assert out["Size"] == out["VirtualSize"] == img.size > 0
    # like docker load/pull, adding an image does not set LastTagTime; docker tag does
    assert out["Metadata"]["LastTagTime"] == "0001-01-01T00:00:00Z"
    store.tag("app:1", "app:2")
    assert store.inspect("app:2")["Metadata"]["LastTagTime"].startswith("20")


def test_list_matches_swagger_and_sorts_newest_first(store, api_schema):
    a = add_image(store, tags=["a"], created="2020-01-01T00:00:00Z")
    b = add_image(store, tags=["b"], created="2022-01-01T00:00:00Z")
    listed = store.list()
    for item in listed:
        api_schema(item, "ImageSummary")
    assert [x["Id"] for x in listed] == [b.id, a.id]
    assert listed[1]["RepoTags"] == ["a:latest"] and listed[1]["Created"] == 1577836800


def test_history_matches_swagger(store, make_image, api_schema):
    img = make_image(tags=["h"], layers=[{"a": "12345"}, {"b": "1"}], history=[
        {"created": "2024-01-01T00:00:00Z", "created_by": "ADD a"},
        {"created": "2024-01-01T00:00:01Z", "created_by": "ENV X=1", "empty_layer": True},
        {"created": "2024-01-01T00:00:02Z", "created_by": "ADD b", "comment": "c"},
    ])
    hist = store.history("h")
    for item in hist:
        api_schema(item, "ImageHistoryResponseItem")
    assert [h["CreatedBy"] for h in hist] == ["ADD b", "ENV X=1", "ADD a"]
    assert [h["Size"] for h in hist] == [1, 0, 5]
    assert hist[0]["Id"] == img.id and hist[0]["Tags"] == ["h:latest"]
    assert hist[1]["Id"] == hist[2]["Id"] == "<missing>" and hist[1]["Tags"] is None
    assert hist[0]["Comment"] == "c" and hist[2]["Created"] == 1704067200


def test_history_walks_local_parents(store, make_image):
    parent = make_image(tags=["base"])
    child = make_image(parent=parent.id, tags=["child"], layers=[{"p": "1"}, {"c": "2"}])
    ids = [h["Id"] for h in store.history("child")]
    assert ids == [child.id, parent.id]


def test_list_dangling_and_intermediate_images(store, make_image):
    tagged = make_image(tags=["t"])
    dangling = make_image()
    parent = make_image()
    child = make_image(parent=parent.id, tags=["c"])
    ids = lambda **kw: {x["Id"] for x in store.list(**kw)}  # noqa: E731
    assert ids() == {tagged.id, dangling.id, child.id}  # the untagged parent is an intermediate image
    assert ids(all=True) == {tagged.id, dangling.id, child.id, parent.id}
    assert ids(filters={"dangling": ["true"]}) == {dangling.id}
    assert ids(filters={"dangling": {"false": True}}) == {tagged.id, child.id}
    none = [x for x in store.list() if x["Id"] == dangling.id][0]
    assert none["RepoTags"] == ["<none>:<none>"] and none["RepoDigests"] == ["<none>@<none>"]


def test_list_reference_label_before_since(store):
    a = add_image(store, tags=["web:1", "reg.local/team/web:2"], created="2020-01-01T00:00:00Z", labels={"tier": "front"})
    b = add_image(store, tags=["db:1"], created="2021-01-01T00:00:00Z", labels={"tier": "back"})
    c = add_image(store, tags=["cache:1"], created="2022-01-01T00:00:00Z")
    ids = lambda f: [x["Id"] for x in store.list(filters=f)]  # noqa: E731
    assert ids({"reference": ["web"]}) == [a.id]
    assert store.list(filters={"reference": ["web"]})[0]["RepoTags"] == ["web:1"]
    assert ids({"reference": ["*/web"]}) == []  # '*' does not cross '/', as in Go's path.Match
    assert ids({"reference": ["*/team/*"]}) == [a.id]
    assert ids({"reference": ["reg.local/*/web"]}) == [a.id]
    assert ids({"reference": ["d?:*"]}) == [b.id]
    assert ids({"label": ["tier"]}) == [b.id, a.id]
    assert ids({"label": ["tier=back"]}) == [b.id]
    assert ids({"before": ["cache:1"]}) == [b.id, a.id]
    assert ids({"since": ["web:1"]}) == [c.id, b.id]
    with pytest.raises(InvalidArgument, match="invalid filter 'colour'"):
        store.list(filters={"colour": ["red"]})
    with pytest.raises(InvalidArgument, match="invalid filter 'dangling=maybe'"):
        store.list(filters={"dangling": ["maybe"]})


def test_path_match_and_timestamps():
    assert filters.path_match("a*", "abc") and not filters.path_match("a*", "a/b")
    assert filters.path_match("[a-c]x", "bx") and not filters.path_match("[^a-c]x", "bx")
    assert filters.path_match(r"a\*", "a*") and not filters.path_match(r"a\*", "ab")
    assert filters.parse_timestamp("10m", now=1000.0) == 400.0
    assert filters.parse_timestamp("1h30m", now=10000.0) == 10000.0 - 5400
    assert filters.parse_timestamp("1700000000") == 1700000000.0
    assert filters.parse_timestamp("2024-01-02") == 1704153600.0
    with pytest.raises(InvalidArgument):
        filters.parse_timestamp("yesterday")
