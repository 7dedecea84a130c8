"""Request validation: every op's fields, defaults, and one-line errors naming the field."""
import json

import pytest

from dockyard.shim.protocol import (MAX_LINE, OPS, ProtocolError, encode_error, encode_ok, encode_request,
                                    parse_request)

CREATE = {"op": "create", "id": "c1", "bundle": "/b", "runtime": "/usr/sbin/runc", "runtime_root": "/run/r"}


def req(**fields):
    return json.dumps(fields).encode() + b"\n"


def test_create_defaults_are_filled_in():
    r = parse_request(req(**CREATE))
    assert r.op == "create" and r.id == "c1" and r.bundle == "/b"
    assert r.runtime_args == () and r.log_path == "" and r.log_max_size == 0 and r.log_max_files == 1
    assert r.tty is False and r.stdin is False and r.console_size is None


def test_create_with_everything():
    r = parse_request(req(**CREATE, runtime_args=["--systemd-cgroup"], log_path="/l", log_max_size=10,
                          log_max_files=3, tty=True, stdin=True, console_size=[24, 80]))
    assert r.runtime_args == ("--systemd-cgroup",) and r.console_size == (24, 80) and r.tty and r.stdin


@pytest.mark.parametrize("missing", ["id", "bundle", "runtime", "runtime_root"])
def test_required_fields(missing):
    body = dict(CREATE)
    del body[missing]
    with pytest.raises(ProtocolError, match=f"create: field '{missing}' is required"):
        parse_request(req(**body))


@pytest.mark.parametrize("field,value,msg", [
    ("id", "../etc", "must be an id"),
    ("id", "a/b", "must be an id"),
    ("id", "", "must be an id"),
    ("id", "x" * 129, "must be an id"),
    ("id", 5, "must be an id"),
    ("bundle", "relative/path", "absolute path"),
    ("bundle", "/a\0b", "must be a string"),
    ("tty", "yes", "true or false"),
    ("tty", 1, "true or false"),
    ("log_max_size", -1, "between"),
    ("log_max_size", True, "must be an integer"),
    ("log_max_files", 0, "between"),
    ("runtime_args", "--x", "list of strings"),
    ("runtime_args", [1], "list of strings"),
    ("console_size", [24], r"\[height, width\]"),
    ("console_size", [24, -1], r"\[height, width\]"),
])
def test_bad_values_name_the_field(field, value, msg):
    with pytest.raises(ProtocolError, match=f"create: field '{field}' {msg}" if "must" in msg else msg) as e:
        parse_request(req(**dict(CREATE, **{field: value})))
    assert f"'{field}'" in str(e.value) and "\n" not in str(e.value)


def test_unknown_op_and_field_and_shapes():
    with pytest.raises(ProtocolError, match="unknown op 'launch'"):
        parse_request(req(op="launch"))
    with pytest.raises(ProtocolError, match="start: unknown field 'bundel'"):
        parse_request(req(op="start", id="c1", bundel="/x"))
    with pytest.raises(ProtocolError, match="not valid JSON"):
        parse_request(b"{nope\n")
    with pytest.raises(ProtocolError, match="must be a JSON object"):
        parse_request(b"[1]\n")
    with pytest.raises(ProtocolError, match='no "op"'):
        parse_request(b'{"id": "x"}\n')
    with pytest.raises(ProtocolError, match="too long"):
        parse_request(b" " * (MAX_LINE + 1))


@pytest.mark.parametrize("op", ["attach", "resize", "wait"])
def test_targeted_ops_take_exactly_one_of_id_and_exec_id(op):
    extra = {"height": 1, "width": 2} if op == "resize" else {}
    with pytest.raises(ProtocolError, match="exactly one of 'id' and 'exec_id'"):
        parse_request(req(op=op, **extra))
    with pytest.raises(ProtocolError, match="exactly one"):
        parse_request(req(op=op, id="a", exec_id="b", **extra))
    assert parse_request(req(op=op, exec_id="e1", **extra)).exec_id == "e1"
    r = parse_request(req(op=op, id="c1", exec_id=None, **extra))  # null means not given
    assert r.id == "c1" and r.exec_id is None


def test_attach_and_exec_defaults():
    a = parse_request(req(op="attach", id="c1"))
    assert (a.stdin, a.stdout, a.stderr) == (False, True, True)
    e = parse_request(req(op="exec", id="c1", exec_id="e1", process={"args": ["true"]}, attach=True))
    assert e.attach and e.stdout and e.stderr and not e.stdin and not e.tty
    with pytest.raises(ProtocolError, match="exec: field 'process' must be an object"):
        parse_request(req(op="exec", id="c1", exec_id="e1", process=["true"]))


def test_kill_signal_range_and_default():
    assert parse_request(req(op="kill", id="c1")).signal == 15
    assert parse_request(req(op="kill", id="c1", signal=9, all=True)).all is True
    for bad in (0, 65, "KILL"):
        with pytest.raises(ProtocolError, match="kill: field 'signal'"):
            parse_request(req(op="kill", id="c1", signal=bad))


def test_resize_bounds():
    with pytest.raises(ProtocolError, match="between 0 and 65535"):
        parse_request(req(op="resize", id="c1", height=70000, width=80))


def test_every_op_in_the_table_parses_minimal_requests():
    minimal = {"id": "c1", "exec_id": "e1", "bundle": "/b", "runtime": "/r", "runtime_root": "/rr",
               "process": {}, "height": 1, "width": 1, "resources": {}}
    for op, table in OPS.items():
        fields = {k: minimal[k] for k, f in table.items() if f.required}
        if op in ("attach", "resize", "wait"):
            fields["id"] = "c1"
        assert parse_request(req(op=op, **fields)).op == op


def test_answers_are_single_lines():
    assert json.loads(encode_ok(pid=3)) == {"ok": True, "pid": 3}
    line = encode_error("runtime failed:\n  details\there")
    assert line.count(b"\n") == 1 and json.loads(line) == {"ok": False, "error": "runtime failed: details here"}
    assert json.loads(encode_request("wait", id="c1", exec_id=None)) == {"op": "wait", "id": "c1"}
