"""The json-file log writer: Docker's escaping, line splitting, partial messages and rotation."""
import json
import os

import pytest

from dockyard.shim.jsonlog import MAX_MESSAGE, JsonFileLog, LineSplitter, encode_entry, escape

T = 1_764_266_400_123_456_789  # 2025-11-27T18:00:00.123456789Z


def entries(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


def test_escaping_matches_moby():
    assert escape(b'plain "q" \\ <a>&b') == b'plain \\"q\\" \\\\ \\u003ca\\u003e\\u0026b'
    assert escape(b"\n\r\t\x00\x1f\x7f") == b"\\n\\r\\u0009\\u0000\\u001f\x7f"
    assert escape("é ü 日本".encode()) == "é ü 日本".encode()
    assert escape(b"bad \xff\xfe end") == b"bad \\ufffd\\ufffd end"
    assert escape("\u2028\u2029".encode()) == b"\\u2028\\u2029"


def test_entry_is_valid_json_with_docker_field_order():
    line = encode_entry(b"hi \xff<\n", "stderr", "2026-11-27T18:00:00.5Z")
    assert line == b'{"log":"hi \\ufffd\\u003c\\n","stream":"stderr","time":"2026-11-27T18:00:00.5Z"}\n'
    assert json.loads(line) == {"log": "hi \ufffd<\n", "stream": "stderr", "time": "2026-11-27T18:00:00.5Z"}


def test_splitter_lines_and_pieces():
    sp = LineSplitter()
    assert sp.feed(b"a\nb") == [(b"a\n", True)]
    assert sp.feed(b"c\n\nd") == [(b"bc\n", True), (b"\n", True)]
    assert sp.pending == 1
    assert sp.finish() == [(b"d", False)]
    assert sp.finish() == []


def test_splitter_cuts_long_lines_at_16k():
    sp = LineSplitter()
    out = sp.feed(b"x" * (MAX_MESSAGE - 1) + b"\n")  # fits: one complete message
    assert out == [(b"x" * (MAX_MESSAGE - 1) + b"\n", True)]
    out = sp.feed(b"y" * (MAX_MESSAGE * 2 + 5))
    assert out == [(b"y" * MAX_MESSAGE, False), (b"y" * MAX_MESSAGE, False)]
    assert sp.pending == 5  # never more than 16 KiB held back
    assert sp.feed(b"\n") == [(b"yyyyy\n", True)]


def test_log_streams_partials_share_a_timestamp(tmp_path):
    path = str(tmp_path / "c-json.log")
    log = JsonFileLog(path)
    log.write("stdout", b"one\ntw", now_ns=T)
    log.write("stderr", b"err\n", now_ns=T + 1)
    log.write("stdout", b"z" * MAX_MESSAGE, now_ns=T + 2)
    log.write("stdout", b"end\n", now_ns=T + 3)
    log.write("stdout", b"tail", now_ns=T + 4)
    log.finish("stdout", now_ns=T + 5)
    log.close()
    e = entries(path)
    assert [(x["stream"], x["log"]) for x in e] == [
        ("stdout", "one\n"), ("stderr", "err\n"), ("stdout", "tw" + "z" * (MAX_MESSAGE - 2)),
        ("stdout", "zzend\n"), ("stdout", "tail")]
    assert e[0]["time"] == "2025-11-27T18:00:00.123456789Z"
    assert e[2]["time"] == e[3]["time"] == "2025-11-27T18:00:00.123456791Z"  # the pieces of one line
    assert e[4]["time"] == "2025-11-27T18:00:00.123456794Z"  # logged when the stream ended


def test_rotation_keeps_max_files(tmp_path):
    path = str(tmp_path / "c-json.log")
    log = JsonFileLog(path, max_size=200, max_files=3)
    for i in range(40):
        log.write("stdout", f"message number {i:03d}\n".encode(), now_ns=T)
    log.close()
    assert sorted(os.listdir(tmp_path)) == ["c-json.log", "c-json.log.1", "c-json.log.2"]
    for p in (path + ".2", path + ".1"):
        assert 200 <= os.path.getsize(p) < 200 + 90  # rotated once it reached max-size
    numbers = [int(x["log"].split()[2]) for p in (path + ".2", path + ".1", path) for x in entries(p)]
    assert numbers == list(range(numbers[0], 40)), "the newest messages, in order, none lost within the kept files"


def test_rotation_with_one_file_truncates(tmp_path):
    path = str(tmp_path / "c-json.log")
    log = JsonFileLog(path, max_size=100, max_files=1)
    for i in range(10):
        log.write("stdout", f"line {i}\n".encode(), now_ns=T)
    log.close()
    assert os.listdir(tmp_path) == ["c-json.log"]
    assert entries(path)[-1]["log"] == "line 9\n"
    assert os.path.getsize(path) < 200


def test_appends_to_an_existing_log_and_counts_its_size(tmp_path):
    path = str(tmp_path / "c-json.log")
    with open(path, "w") as f:
        f.write('{"log":"old\\n","stream":"stdout","time":"2025-01-01T00:00:00Z"}\n' * 3)
    log = JsonFileLog(path, max_size=150, max_files=2)
    log.write("stdout", b"new\n", now_ns=T)
    log.close()
    assert [x["log"] for x in entries(path)] == ["new\n"]
    assert len(entries(path + ".1")) == 3


def test_write_errors_never_raise(tmp_path):
    path = str(tmp_path / "c-json.log")
    log = JsonFileLog(path)
    os.close(log._fd)
    log._fd = os.open("/dev/full", os.O_WRONLY)
    log.write("stdout", b"lost\n")
    assert log.error and "No space left" in log.error
    log.close()


def test_bad_settings_are_refused(tmp_path):
    with pytest.raises(ValueError, match="max files"):
        JsonFileLog(str(tmp_path / "x"), max_files=0)
    with pytest.raises(ValueError, match="max size"):
        JsonFileLog(str(tmp_path / "x"), max_size=-1)
    assert not os.path.exists(tmp_path / "x")
