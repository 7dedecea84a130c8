"""Property-based fuzzing (hypothesis) of the parsers hostile input reaches first: the layer tar
extractor, image references, the container create body, the Dockerfile parser, user seccomp
profiles. For every generated input: the documented error class or a result, never another
exception, never a hang, and nothing written outside the extraction target."""
import atexit
import io
import json
import os
import shutil
import tarfile
import tempfile

import pytest

hypothesis = pytest.importorskip("hypothesis", reason="hypothesis is not installed (pip install hypothesis==6.135.0)")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis.configuration import set_hypothesis_home_dir  # noqa: E402

_HOME = tempfile.mkdtemp(prefix="dockyard-hypothesis-")  # not .hypothesis/ in the checkout
set_hypothesis_home_dir(_HOME)
atexit.register(shutil.rmtree, _HOME, True)
from hypothesis import strategies as st  # noqa: E402

from dockyard.daemon.containers.specgen_errors import SpecGenError  # noqa: E402
from dockyard.daemon.containers.specgen_request import parse_request  # noqa: E402
from dockyard.images.reference import ReferenceError, parse as parse_reference  # noqa: E402
from dockyard.security.seccomp_profile import ProfileError, load as load_profile  # noqa: E402
from dockyard.snapshots.apply import LayerError, apply_layer  # noqa: E402

FUZZ = settings(max_examples=300, deadline=2000, database=None, suppress_health_check=[HealthCheck.too_slow,
                                                                          HealthCheck.function_scoped_fixture])

# ---- the layer tar extractor -----------------------------------------------------------------

_names = st.one_of(
    st.sampled_from(["a", "a/b", "../a", "../../x", "/abs", "a/../../b", ".", "./a", "a/.", "link/x", "link",
                     "dir/", "dir/f", ".wh.a", "a/.wh..wh..opq", "\u2603", "a" * 300, "x/" * 60 + "deep"]),
    st.text(alphabet="ab./\\-_\u00e9\x00", min_size=0, max_size=40),
)
_entry = st.tuples(
    _names,
    st.sampled_from([tarfile.REGTYPE, tarfile.DIRTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.FIFOTYPE,
                     tarfile.CHRTYPE]),
    st.one_of(st.sampled_from(["/", "..", "../..", "/etc/shadow", "a", "link", "../../../../tmp", "dir"]),
              st.text(alphabet="ab./", max_size=20)),
    st.binary(max_size=64),
    st.integers(min_value=0, max_value=0o7777),
)


def _tar(entries) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, typ, link, data, mode in entries:
            try:
                ti = tarfile.TarInfo(name)
                ti.type, ti.linkname, ti.mode = typ, link, mode
                ti.size = len(data) if typ == tarfile.REGTYPE else 0
                tf.addfile(ti, io.BytesIO(data) if ti.size else None)
            except (ValueError, UnicodeError):
                continue
    return buf.getvalue()


def _listing(top):
    out = set()
    for dirpath, dirnames, filenames in os.walk(top):
        for n in dirnames + filenames:
            out.add(os.path.relpath(os.path.join(dirpath, n), top))
    return out


@FUZZ
@given(entries=st.lists(_entry, max_size=12), cut=st.one_of(st.none(), st.integers(min_value=0, max_value=4000)),
       flip=st.one_of(st.none(), st.integers(min_value=0, max_value=4000)))
def test_fuzz_tar_extractor(tmp_path_factory, entries, cut, flip):
    work = tmp_path_factory.mktemp("fuzz-apply")
    outside = work / "outside"
    outside.mkdir()
    (outside / "keep").write_text("keep")
    data = bytearray(_tar(entries))
    if flip is not None and flip < len(data):
        data[flip] ^= 0xFF
    if cut is not None:
        data = data[:cut]
    root = work / "sub" / "root"
    root.mkdir(parents=True)
    before = _listing(work) - {p for p in _listing(work) if p.startswith("sub/root")}
    try:
        apply_layer(io.BytesIO(bytes(data)), root, same_owner=False)
    except LayerError as e:
        assert str(e) and "\n" not in str(e)
    after = {p for p in _listing(work) if not p.startswith("sub/root")}
    assert after == before, f"written outside the target: {after - before}"
    assert (outside / "keep").read_text() == "keep"


# ---- image references -----------------------------------------------------------------------

_ref_text = st.one_of(
    st.text(alphabet="abcXYZ019.-_/:@+", max_size=80),
    st.builds(lambda a, b, c: f"{a}/{b}:{c}", st.text(alphabet="ab.:0", max_size=20),
              st.text(alphabet="ab/-_", max_size=30), st.text(alphabet="ab0.-", max_size=130)),
    st.builds(lambda a, h: f"{a}@sha256:{h}", st.text(alphabet="ab/", max_size=10),
              st.text(alphabet="0123456789abcdefg", max_size=70)),
    st.text(max_size=40),
)


@FUZZ
@given(text=_ref_text)
def test_fuzz_reference_parser(text):
    try:
        ref = parse_reference(text)
    except ReferenceError as e:
        assert str(e)
        return
    again = parse_reference(str(ref))
    assert str(again) == str(ref)


# ---- the container create body --------------------------------------------------------------

_json = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2 ** 70), max_value=2 ** 70),
              st.floats(allow_nan=False), st.text(max_size=20)),
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(st.sampled_from(
                                   ["Image", "Cmd", "Env", "HostConfig", "Binds", "Memory", "CapAdd", "Mounts",
                                    "Ulimits", "Name", "Soft", "Type", "Source", "Target", "Healthcheck", "Test",
                                    "RestartPolicy", "LogConfig", "Config", "Devices", "PathOnHost", "Tmpfs",
                                    "Labels", "ExposedPorts", "Volumes", "SecurityOpt", "x"]), children, max_size=5)),
    max_leaves=25)


@FUZZ
@given(body=_json)
def test_fuzz_create_request(body):
    try:
        parse_request(body)
    except SpecGenError as e:
        assert str(e) and "\n" not in str(e)


@FUZZ
@given(hc=st.dictionaries(st.sampled_from(["Memory", "CpuShares", "Binds", "CapAdd", "Ulimits", "RestartPolicy",
                                           "LogConfig", "Mounts", "Devices", "Sysctls", "ShmSize", "PidsLimit",
                                           "ConsoleSize", "Tmpfs", "SecurityOpt", "PortBindings"]), _json, max_size=6))
def test_fuzz_create_host_config(hc):
    try:
        parse_request({"Image": "busybox", "HostConfig": hc})
    except SpecGenError as e:
        assert str(e) and "\n" not in str(e)


# ---- Dockerfiles ----------------------------------------------------------------------------

_instr = st.sampled_from(["FROM", "RUN", "COPY", "ADD", "ENV", "ARG", "LABEL", "WORKDIR", "USER", "CMD",
                          "ENTRYPOINT", "ONBUILD", "HEALTHCHECK", "SHELL", "EXPOSE", "VOLUME", "STOPSIGNAL",
                          "MAINTAINER", "BOGUS", "# syntax=x", "# escape=`", ""])
_dockerfile = st.lists(st.tuples(_instr, st.text(alphabet=st.characters(codec="utf-8"), max_size=40)),
                       max_size=15).map(lambda ls: "\n".join(f"{a} {b}" for a, b in ls))


@FUZZ
@given(text=st.one_of(_dockerfile, st.text(max_size=300), st.binary(max_size=300)))
def test_fuzz_dockerfile_parser(text):
    try:
        from dockyard.build.errors import DockerfileError
        from dockyard.build.instructions import parse_dockerfile
    except ImportError:
        pytest.skip("the Dockerfile front end is not there")
    try:
        parse_dockerfile(text)
    except DockerfileError as e:
        assert str(e)


# ---- user seccomp profiles ------------------------------------------------------------------

@FUZZ
@given(doc=st.one_of(_json, st.fixed_dictionaries({"defaultAction": st.sampled_from(["SCMP_ACT_ALLOW", "X", 5]),
                                                    "syscalls": _json})))
def test_fuzz_seccomp_profile(doc):
    try:
        out = load_profile(json.dumps(doc), ["CAP_CHOWN"], machine="x86_64", kernel=(6, 1))
    except ProfileError as e:
        assert str(e) and "\n" not in str(e)
        return
    assert isinstance(out["syscalls"], list)
