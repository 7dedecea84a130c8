"""dockyard build's client side: the context tar it streams, and how it shows the daemon's stream."""
import io
import json
import os
import tarfile

import pytest

from dockyard.cli.commands import build as cmd
from dockyard.cli.commands import build_context as bc
from dockyard.cli.commands import build_view as bv
from dockyard.cli.errors import CLIError


def members(chunks) -> dict:
    data = b"".join(chunks)
    with tarfile.open(fileobj=io.BytesIO(data)) as tf:
        return {m.name: (m, tf.extractfile(m).read() if m.isfile() else None) for m in tf.getmembers()}


@pytest.fixture
def project(tmp_path):
    p = tmp_path / "proj"
    (p / "src").mkdir(parents=True)
    (p / "src" / "a.py").write_text("print(1)\n")
    (p / "src" / "x.log").write_text("log")
    (p / "build").mkdir()
    (p / "build" / "out.bin").write_text("bin")
    (p / "Dockerfile").write_text("FROM busybox\n")
    (p / ".dockerignore").write_text("*/*.log\nbuild\nDockerfile\n")
    os.symlink("/etc/passwd", p / "link")
    os.link(p / "src" / "a.py", p / "src" / "hard.py")
    return p


def test_context_tar_follows_dockerignore_but_keeps_build_files(project):
    rel, outside = bc.dockerfile_in_context(str(project), None)
    assert rel == "Dockerfile" and outside is None
    m = members(bc.stream_dir(str(project), rel, None))
    assert sorted(m) == [".dockerignore", "Dockerfile", "link", "src", "src/a.py", "src/hard.py"]
    link, _ = m["link"]
    assert link.issym() and link.linkname == "/etc/passwd"       # never followed
    hard, _ = m["src/hard.py"]
    assert hard.islnk() and hard.linkname == "src/a.py"
    a, data = m["src/a.py"]
    assert data == b"print(1)\n" and (a.uid, a.gid, a.uname) == (0, 0, "")


def test_dockerfile_outside_the_context(project, tmp_path):
    other = tmp_path / "Dockerfile.other"
    other.write_text("FROM scratch\n")
    rel, outside = bc.dockerfile_in_context(str(project), str(other))
    assert rel is None and outside == b"FROM scratch\n"
    m = members(bc.stream_dir(str(project), None, outside, ".dockerfile.abc"))
    assert m[".dockerfile.abc"][1] == b"FROM scratch\n"
    assert m[".dockerignore"][1].endswith(b"\n.dockerfile.abc\n")      # the daemon drops it again
    assert "Dockerfile" not in m                                       # the ignored one is not kept now
    with pytest.raises(CLIError, match="no such file or directory"):
        bc.dockerfile_in_context(str(project), str(project / "nope"))
    with pytest.raises(CLIError, match="not found"):
        list(bc.stream_dir(str(tmp_path / "missing"), "Dockerfile", None))


def test_stdin_forms():
    assert bc.is_archive(b"\x1f\x8b\x08rest") and not bc.is_archive(b"FROM busybox\n")
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tf:
        tf.addfile(tarfile.TarInfo("x"))
    assert bc.is_archive(raw.getvalue()[:512])
    m = members(bc.stream_dockerfile_only(b"FROM a\n"))
    assert list(m) == ["Dockerfile"] and m["Dockerfile"][1] == b"FROM a\n"


def test_build_args_and_labels():
    assert cmd._build_args(["A=1", "B", "C"], {"B": "from-env"}) == {"A": "1", "B": "from-env", "C": None}
    assert cmd._labels(["a=b=c", "d"]) == {"a": "b=c", "d": ""}
    with pytest.raises(CLIError, match='invalid argument "Bad" for "-t, --tag" flag'):
        cmd._tags(["Bad"])


STREAM = [
    {"stream": "Step 1/3 : FROM busybox\n"}, {"stream": " ---> 3f21d6db564e\n"},
    {"stream": "Step 2/3 : COPY a /a\n"}, {"stream": " ---> Using cache\n"}, {"stream": " ---> 1111111111aa\n"},
    {"stream": "Step 3/3 : RUN make\n"}, {"stream": " ---> Running in 45e795e67767\n"},
    {"stream": "compiling"}, {"stream": " done\nlinking\n"},
    {"stream": "Removing intermediate container 45e795e67767\n"}, {"stream": " ---> 2222222222bb\n"},
    {"aux": {"ID": "sha256:2222222222bb" + "0" * 52}},
    {"stream": "Successfully built 2222222222bb\n"}, {"stream": "Successfully tagged app:1\n"},
]


def lines(msgs):
    return [json.dumps(m).encode() for m in msgs]


def test_plain_view_prints_the_classic_stream():
    out = io.StringIO()
    image_id = bv.parse(lines(STREAM), bv.PlainView(out))
    assert image_id == "sha256:2222222222bb" + "0" * 52
    assert out.getvalue() == "".join(m.get("stream", "") for m in STREAM)


def screen(text: str) -> list[str]:
    """What a terminal shows after ``text`` (cursor up, carriage return, clear below, colors)."""
    import re
    rows, row = [""], 0
    for tok in re.findall(r"\x1b\[(\d*)([A-Za-z])|(\n)|(\r)|([^\x1b\n\r]+)", text):
        n, cmd, nl, cr, chars = tok
        if cmd == "A":
            row -= int(n or 1)
        elif cmd == "J":
            del rows[row + 1:]
            rows[row] = ""
        elif nl:
            row += 1
            if row == len(rows):
                rows.append("")
        elif chars:
            rows[row] += chars
    return [r for r in rows if r]


def test_tty_view_is_compact():
    out = io.StringIO()
    bv.parse(lines(STREAM), bv.TtyView(out, 60, interval=0))
    text = out.getvalue()
    final = screen(text)
    assert final[0].startswith(" => [1/3] FROM busybox") and final[0].endswith("s")
    assert final[1].startswith(" => CACHED [2/3] COPY a /a")
    assert final[2].startswith(" => [3/3] RUN make") and len(final[2]) == 60
    assert final[-2:] == ["Successfully built 2222222222bb", "Successfully tagged app:1"]
    assert len(final) == 5   # the RUN output was shown while it ran, then folded away
    assert "compiling done" in text and "Running in" not in text and " ---> " not in text


def test_a_failure_shows_the_steps_output_and_exits_with_its_code():
    err = "The command '/bin/sh -c make' returned a non-zero code: 2"
    msgs = STREAM[:8] + [{"stream": "error: boom\n"}, {"errorDetail": {"code": 2, "message": err}, "error": err}]
    out = io.StringIO()
    with pytest.raises(bv.BuildFailed) as e:
        bv.parse(lines(msgs), bv.TtyView(out, 80))
    assert e.value.status == 2 and "returned a non-zero code: 2" in e.value.message
    final = screen(out.getvalue())
    assert final[-2].startswith(" => ERROR [3/3] RUN make") and final[-1] == "    compilingerror: boom"
