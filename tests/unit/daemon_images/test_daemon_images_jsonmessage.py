"""Docker's JSON progress lines, byte for byte as dockerd 20.10 wrote them in the reference traces."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from dockyard.daemon.images import jsonmessage as jm

TRACES = Path(os.environ.get("DOCKYARD_SHARED", "/work/shared")) / "reference" / "traces"


@pytest.mark.parametrize("current,total,text", [
    (36412, 1122603, "[=>                                                 ]  36.41kB/1.123MB"),
    (1122603, 1122603, "[==================================================>]  1.123MB/1.123MB"),
    (119, 119, "[==================================================>]     119B/119B"),
    (512, 3, "[==================================================>]     512B"),
    (2048, 10, "[==================================================>]  2.048kB"),
    (34816, 2084939, "[>                                                  ]  34.82kB/2.085MB"),
    (1542144, 2084939, "[====================================>              ]  1.542MB/2.085MB"),
    (2283520, 2084939, "[==================================================>]  2.284MB"),
    (0, 0, ""),
    (5, None, "      5B"),
])
def test_progress_bar_matches_dockerd(current, total, text):
    assert jm.progress_bar(current, total) == text


def test_human_size():
    assert [jm.human_size(x) for x in (0, 999, 1000, 1500000, 2.5e9)] == ["0B", "999B", "1kB", "1.5MB", "2.5GB"]


def test_encode_field_order_escaping_and_line_end():
    assert jm.encode({"id": "1", "status": "Pulling from research/built"}) == \
        b'{"status":"Pulling from research/built","id":"1"}\r\n'
    assert jm.encode({"status": "Pulling fs layer", "progressDetail": {}, "id": "1fab9dff08f8"}) == \
        b'{"status":"Pulling fs layer","progressDetail":{},"id":"1fab9dff08f8"}\r\n'
    assert jm.encode({"id": "1fab9dff08f8", "status": "Downloading",
                      "progressDetail": {"current": 36412, "total": 1122603}}) == (
        b'{"status":"Downloading","progressDetail":{"current":36412,"total":1122603},"progress":'
        b'"[=\\u003e                                                 ]  36.41kB/1.123MB","id":"1fab9dff08f8"}\r\n')
    assert jm.encode(jm.aux({"Tag": "1", "Digest": "sha256:ab", "Size": 942})) == \
        b'{"progressDetail":{},"aux":{"Tag":"1","Digest":"sha256:ab","Size":942}}\r\n'
    assert jm.encode(jm.error("boom <x>")) == \
        b'{"errorDetail":{"message":"boom \\u003cx\\u003e"},"error":"boom \\u003cx\\u003e"}\r\n'
    assert jm.encode(jm.stream("Loaded image: busybox:latest\n")) == \
        b'{"stream":"Loaded image: busybox:latest\\n"}\r\n'


def test_every_pull_and_push_line_of_the_traces_reencodes_identically():
    lines = []
    for name in ("t-pull.txt", "t-push.txt"):
        path = TRACES / name
        if not path.exists():
            pytest.skip(f"reference trace {path} not found")
        lines += [x for x in path.read_text().splitlines() if x.startswith("{")]
    assert len(lines) > 20
    import json

    for line in lines:
        msg = json.loads(line)
        msg.pop("progress", None)  # recomputed from progressDetail
        assert jm.encode(msg) == line.encode() + b"\r\n", line
    assert any(re.search(r'"progress":"\[=+', x) for x in lines)
