"""dockyardd's responses validated against moby's swagger (v1.41) with jsonschema (needs root)."""
import http.client
import json
import os
import socket

import pytest


pytestmark = pytest.mark.root

SWAGGER = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))),
                       "..", "shared", "reference", "moby-api", "v1.41.yaml")


class UnixConn(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost")
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.path)


@pytest.fixture(scope="module")
def swagger():
    yaml = pytest.importorskip("yaml")
    if not os.path.exists(SWAGGER):
        pytest.skip(f"moby's swagger not found at {SWAGGER} (../shared/reference)")
    with open(SWAGGER) as f:
        return yaml.safe_load(f)




def call(d, method, path, body=None):
    c = UnixConn(d.sock)
    try:
        c.request(method, "/v1.41" + path, body=json.dumps(body) if body is not None else None,
                  headers={"Content-Type": "application/json"})
        r = c.getresponse()
        data = r.read()
        return r.status, (json.loads(data) if data.strip() else None)
    finally:
        c.close()


def _nullable(schema):
    """Swagger 2's x-nullable -> JSON schema's null type, recursively. Go encodes nil slices and maps as
    null (dockerd does so for Env, Cmd, Binds, ...) and moby's swagger leaves those unmarked: arrays and
    free-form objects may be null too."""
    if isinstance(schema, dict):
        out = {k: _nullable(v) for k, v in schema.items()}
        go_nil = out.get("type") == "array" or (out.get("type") == "object" and "properties" not in out)
        if (out.get("x-nullable") or go_nil) and "type" in out:
            out["type"] = [out["type"], "null"] if isinstance(out["type"], str) else out["type"] + ["null"]
        return out
    if isinstance(schema, list):
        return [_nullable(x) for x in schema]
    return schema


def validate(swagger, schema, value):
    jsonschema = pytest.importorskip("jsonschema")
    full = dict(_nullable(schema))
    full["definitions"] = _nullable(swagger["definitions"])
    jsonschema.Draft4Validator(full).validate(value)


def response_schema(swagger, path, method, status=200):
    responses = swagger["paths"][path][method]["responses"]
    return (responses.get(int(status)) or responses[str(status)])["schema"]


def test_system_shapes(d, swagger):
    st, info = call(d, "GET", "/info")
    assert st == 200
    validate(swagger, {"$ref": "#/definitions/SystemInfo"}, info)
    st, ver = call(d, "GET", "/version")
    validate(swagger, {"$ref": "#/definitions/SystemVersion"}, ver)


def test_container_shapes(d, swagger):
    st, created = call(d, "POST", "/containers/create?name=sw", {"Image": "busybox", "Cmd": ["sleep", "30"]})
    assert st == 201
    validate(swagger, response_schema(swagger, "/containers/create", "post", "201"), created)
    try:
        st, _ = call(d, "POST", "/containers/sw/start")
        assert st == 204
        st, lst = call(d, "GET", "/containers/json?all=1&size=1")
        validate(swagger, response_schema(swagger, "/containers/json", "get"), lst)
        st, ins = call(d, "GET", "/containers/sw/json")
        validate(swagger, response_schema(swagger, "/containers/{id}/json", "get"), ins)
        st, ex = call(d, "POST", "/containers/sw/exec", {"Cmd": ["true"]})
        assert st == 201
        validate(swagger, {"$ref": "#/definitions/IdResponse"}, ex)
    finally:
        call(d, "DELETE", "/containers/sw?force=1")


def test_image_and_volume_shapes(d, swagger):
    st, imgs = call(d, "GET", "/images/json")
    validate(swagger, response_schema(swagger, "/images/json", "get"), imgs)
    st, img = call(d, "GET", "/images/busybox/json")
    validate(swagger, response_schema(swagger, "/images/{name}/json", "get"), img)
    st, vol = call(d, "POST", "/volumes/create", {"Name": "swv", "Labels": {"a": "b"}})
    assert st == 201
    validate(swagger, {"$ref": "#/definitions/Volume"}, vol)
    st, vols = call(d, "GET", "/volumes")
    validate(swagger, response_schema(swagger, "/volumes", "get"), vols)
    call(d, "DELETE", "/volumes/swv")


def test_bad_input_gets_4xx_json(d):
    c = UnixConn(d.sock)
    try:
        c.request("POST", "/v1.41/containers/create", body=b"{not json", headers={"Content-Type": "application/json"})
        r = c.getresponse()
        body = json.loads(r.read())
        assert r.status == 400 and "message" in body
    finally:
        c.close()
    st, body = call(d, "POST", "/containers/create", {"Image": "busybox", "Cmd": "true", "HostConfig": {"Memory": "x"}})
    assert st == 400 and "Memory" in body["message"]
    st, body = call(d, "GET", "/containers/nosuch/json")
    assert st == 404 and body == {"message": "No such container: nosuch"}
    c = UnixConn(d.sock)
    try:
        c.request("GET", "/v1.40/version")
        r = c.getresponse()
        assert r.status == 400 and b"too old" in r.read()
    finally:
        c.close()
