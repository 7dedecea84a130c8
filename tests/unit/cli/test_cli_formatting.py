"""Tables (Go's tabwriter), docker's list contexts, jsonindent and the JSON message display."""
from __future__ import annotations

import io
import json

import pytest

from dockyard.cli import formatter
from dockyard.cli.fmt_container import HEADER, ContainerContext, container_format, displayable_ports
from dockyard.cli.fmt_image import HEADER as IHEADER, image_contexts, image_format
from dockyard.cli.jsonindent import indent
from dockyard.cli.jsonmessage import StreamError, display_stream, progress_string
from dockyard.cli.tabwriter import align


def test_tabwriter_minwidth_padding_and_last_cell():
    text = "CONTAINER ID\tIMAGE\tNAMES\nabc\tbusybox\tn1\n"
    assert align(text) == "CONTAINER ID   IMAGE     NAMES\nabc            busybox   n1\n"
    # rows with fewer cells end a column block; the last cell of a row is never padded
    assert align("a\tb\nlonger-cell\nc\td\n") == "a         b\nlonger-cell\nc         d\n"
    assert align("x\ty\n", minwidth=20, padding=3) == "x                   y\n"


def test_ps_table_from_contexts():
    c = {"Id": "e8557db05203f8858be19296588a5f336501ee2661ffc33f53dfeecb0cafec9c", "Names": ["/c2"],
         "Image": "busybox", "ImageID": "sha256:" + "f" * 64, "Command": "sh -c 'exit 2'", "Created": 1000,
         "Status": "Exited (2) 3 seconds ago", "State": "exited", "Ports": [], "Labels": {"b": "2", "a": "1"},
         "Mounts": [{"Name": "averyveryverylongvolumename", "Driver": "local"}], "SizeRw": 0}
    out = io.StringIO()
    formatter.write(out, container_format("table", False, False), [ContainerContext(c, now=1004)], HEADER)
    assert out.getvalue() == (
        "CONTAINER ID   IMAGE     COMMAND            CREATED         STATUS                     PORTS     NAMES\n"
        "e8557db05203   busybox   \"sh -c 'exit 2'\"   4 seconds ago   Exited (2) 3 seconds ago             c2\n")
    ctx = ContainerContext(c, now=1004)
    assert (ctx.Labels(), ctx.Label("b"), ctx.Mounts(), ctx.LocalVolumes(), ctx.Size()) == \
        ("a=1,b=2", "2", "averyveryveryl…", "1", "0B")
    assert ContainerContext({**c, "Command": "x" * 30}).Command() == '"' + "x" * 19 + '…"'
    assert ContainerContext({**c, "Names": ["/other/link", "/c2"]}).Names() == "c2"
    assert ContainerContext({**c, "Names": ["/c2", "/other/link"]}, trunc=False).Names() == "c2,other/link"
    assert ContainerContext({**c, "Image": "sha256:" + "f" * 64}).Image() == "f" * 12


def test_displayable_ports():
    ports = [{"PrivatePort": 80, "PublicPort": 8080, "IP": "0.0.0.0", "Type": "tcp"},
             {"PrivatePort": 9988, "Type": "tcp"}, {"PrivatePort": 9989, "Type": "tcp"},
             {"PrivatePort": 53, "PublicPort": 53, "IP": "::", "Type": "udp"}]
    assert displayable_ports(ports) == "[::]:53->53/udp, 9988-9989/tcp, 0.0.0.0:8080->80/tcp"


def test_images_rows_and_formats():
    img = {"Id": "sha256:" + "e" * 64, "RepoTags": ["busybox:latest", "busybox:1", "other:x"],
           "RepoDigests": ["busybox@sha256:" + "d" * 64], "Created": 0, "Size": 1984512, "Containers": -1}
    rows = image_contexts([img], show_digests=False, need_digest=False, trunc=True)
    assert [(r.Repository(), r.Tag(), r.Digest()) for r in rows] == \
        [("busybox", "latest", "<none>"), ("busybox", "1", "<none>"), ("other", "x", "<none>")]
    rows = image_contexts([img], show_digests=True, need_digest=True, trunc=True)
    assert rows[0].Digest() == "sha256:" + "d" * 64 and rows[2].Digest() == "<none>"
    dangling = image_contexts([{**img, "RepoTags": [], "RepoDigests": []}], False, False, True)
    assert [(r.Repository(), r.Tag()) for r in dangling] == [("<none>", "<none>")]
    assert rows[0].Size() == "1.98MB" and rows[0].VirtualSize() == "1.985MB" and rows[0].Containers() == "N/A"
    assert image_format("table {{.ID}}", False, True) == "table {{.ID}}\t{{.Digest}}"
    out = io.StringIO()
    formatter.write(out, "json", rows[:1], IHEADER)
    assert json.loads(out.getvalue())["Repository"] == "busybox"


def test_format_prefixes_and_escapes():
    assert formatter.final_format("table {{.A}}\\t{{.B}}\\n") == "{{.A}}\t{{.B}}\n"
    assert formatter.final_format("json") == "{{json .}}"
    out = io.StringIO()
    formatter.write(out, "table {{.Name}}\t{{.Name}}", [], {"Name": "NAME"})
    assert out.getvalue() == "NAME      NAME\n"  # the header prints even without rows


def test_jsonindent_keeps_text():
    raw = '{"a":[],"b":{},"c":[1,{"d":"x\\u003cy, z: w"}],"e":null,"f":-1.5e+3}'
    assert indent(raw) == ('{\n    "a": [],\n    "b": {},\n    "c": [\n        1,\n        {\n'
                           '            "d": "x\\u003cy, z: w"\n        }\n    ],\n    "e": null,\n    "f": -1.5e+3\n}')
    assert json.loads(indent(raw)) == json.loads(raw)


def test_progress_display_plain_and_terminal():
    msgs = [{"status": "Pulling from research/built", "id": "1"},
            {"status": "Pulling fs layer", "progressDetail": {}, "id": "aaa"},
            {"status": "Downloading", "progressDetail": {"current": 36412, "total": 1122603},
             "progress": "[=>   ]  36.41kB/1.123MB", "id": "aaa"},
            {"status": "Pull complete", "progressDetail": {}, "id": "aaa"},
            {"status": "Digest: sha256:x"}, {"stream": "Loaded image: busybox:latest\n"}]
    lines = [json.dumps(m).encode() for m in msgs]
    out = io.StringIO()
    display_stream(lines, out, tty=False)
    assert out.getvalue() == ("1: Pulling from research/built\naaa: Pulling fs layer\naaa: Pull complete\n"
                              "Digest: sha256:x\nLoaded image: busybox:latest\n")
    out = io.StringIO()
    display_stream(lines[1:3], out, tty=True)
    assert out.getvalue().startswith("\n\x1b[1A\x1b[2K\raaa: Pulling fs layer \r\x1b[1B")
    assert "36.41kB/1.123MB" in out.getvalue()
    with pytest.raises(StreamError, match="manifest unknown"):
        display_stream([b'{"errorDetail":{"message":"manifest unknown"},"error":"manifest unknown"}'], io.StringIO(), False)
    with pytest.raises(StreamError, match="authentication is required"):
        display_stream([b'{"errorDetail":{"code":401,"message":"x"}}'], io.StringIO(), False)


def test_progress_bar():
    assert progress_string({"current": 36412, "total": 1122603}) == "[=>" + " " * 49 + "]  36.41kB/1.123MB"
    assert progress_string({"current": 5, "total": 5}, width=80) == "      5B/5B"
    assert progress_string({}) == ""
    assert progress_string({"current": 2048}) == " 2.048kB"
