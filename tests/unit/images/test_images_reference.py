"""Image reference parsing: Docker's normalization rules and error messages."""
import pytest

from dockyard.images import reference as refs

D64 = "sha256:" + "ab" * 32

VALID = [
    # input, full string, familiar, domain, path, tag, digest
    ("busybox", "docker.io/library/busybox", "busybox", "docker.io", "library/busybox", None, None),
    ("busybox:latest", "docker.io/library/busybox:latest", "busybox:latest", "docker.io", "library/busybox", "latest", None),
    ("library/busybox", "docker.io/library/busybox", "busybox", "docker.io", "library/busybox", None, None),
    ("docker.io/library/busybox:1.36", "docker.io/library/busybox:1.36", "busybox:1.36", "docker.io", "library/busybox", "1.36", None),
    ("index.docker.io/library/busybox", "docker.io/library/busybox", "busybox", "docker.io", "library/busybox", None, None),
    ("docker.io/busybox", "docker.io/library/busybox", "busybox", "docker.io", "library/busybox", None, None),
    ("user/repo", "docker.io/user/repo", "user/repo", "docker.io", "user/repo", None, None),
    ("user/repo/sub:t", "docker.io/user/repo/sub:t", "user/repo/sub:t", "docker.io", "user/repo/sub", "t", None),
    ("library/a/b", "docker.io/library/a/b", "library/a/b", "docker.io", "library/a/b", None, None),
    ("localhost:5000/a/b:tag", "localhost:5000/a/b:tag", "localhost:5000/a/b:tag", "localhost:5000", "a/b", "tag", None),
    ("localhost/foo", "localhost/foo", "localhost/foo", "localhost", "foo", None, None),
    ("127.0.0.1:5000/foo@" + D64, "127.0.0.1:5000/foo@" + D64, "127.0.0.1:5000/foo@" + D64, "127.0.0.1:5000", "foo", None, D64),
    ("[::1]:5000/foo:bar", "[::1]:5000/foo:bar", "[::1]:5000/foo:bar", "[::1]:5000", "foo", "bar", None),
    ("foo.com:8080/bar/baz:tag@" + D64, "foo.com:8080/bar/baz:tag@" + D64, "foo.com:8080/bar/baz:tag@" + D64,
     "foo.com:8080", "bar/baz", "tag", D64),
    ("busybox@" + D64, "docker.io/library/busybox@" + D64, "busybox@" + D64, "docker.io", "library/busybox", None, D64),
    ("sub-dom1.foo.com/bar/baz/quux", "sub-dom1.foo.com/bar/baz/quux", "sub-dom1.foo.com/bar/baz/quux",
     "sub-dom1.foo.com", "bar/baz/quux", None, None),
    ("foo_bar/baz", "docker.io/foo_bar/baz", "foo_bar/baz", "docker.io", "foo_bar/baz", None, None),
    ("foo--bar.baz__qux", "docker.io/library/foo--bar.baz__qux", "foo--bar.baz__qux", "docker.io",
     "library/foo--bar.baz__qux", None, None),
    ("a.b.c/d-e/f__g/h.i:Tag_1.0-x", "a.b.c/d-e/f__g/h.i:Tag_1.0-x", "a.b.c/d-e/f__g/h.i:Tag_1.0-x", "a.b.c",
     "d-e/f__g/h.i", "Tag_1.0-x", None),
    ("repo:" + "t" * 128, "docker.io/library/repo:" + "t" * 128, "repo:" + "t" * 128, "docker.io", "library/repo",
     "t" * 128, None),
    ("Foo.com/bar", "Foo.com/bar", "Foo.com/bar", "Foo.com", "bar", None, None),
]


@pytest.mark.parametrize("s,full,familiar,domain,path,tag,digest", VALID)
def test_valid_references(s, full, familiar, domain, path, tag, digest):
    r = refs.parse(s)
    assert (r.domain, r.path, r.tag, r.digest) == (domain, path, tag, digest)
    assert str(r) == full
    assert r.familiar() == familiar
    assert r.name == f"{domain}/{path}"
    # the full form parses to the same reference
    assert refs.parse(full) == r


INVALID = [
    ("", "invalid reference format"),
    (":justtag", "invalid reference format"),
    ("@" + D64, "invalid reference format"),
    ("repo@sha256:" + "f" * 34, "invalid reference format: invalid sha256 digest"),
    ("repo@sha256:" + "a" * 63, "invalid reference format"),
    ("repo@md5:" + "a" * 32, "unsupported digest algorithm"),
    ("Uppercase:tag", "invalid reference format: repository name (library/Uppercase) must be lowercase"),
    ("test:5000/Uppercase/lowercase:tag", "repository name (Uppercase/lowercase) must be lowercase"),
    ("localhost:5000/Foo", "must be lowercase"),
    ("aa/asdf$$^/aa", "invalid reference format"),
    ("-foo/bar", "invalid reference format"),
    ("foo/-bar", "invalid reference format"),
    ("foo_/bar", "invalid reference format"),
    ("foo/bar_", "invalid reference format"),
    ("foo::bar", "invalid reference format"),
    ("foo:bar:baz", "invalid reference format"),
    ("http://foo/bar", "invalid reference format"),
    ("repo:-tag", "invalid reference format"),
    ("repo:" + "t" * 129, "invalid reference format"),
    ("a" * 256, "repository name must not be more than 255 characters"),
    ("ab" * 32, "cannot specify 64-byte hexadecimal strings"),
    ("foo bar", "invalid reference format"),
    ("foo/../bar", "invalid reference format"),
    ("foo//bar", "invalid reference format"),
    ("[fe80::1%eth0]:5000/foo", "invalid reference format"),
]


@pytest.mark.parametrize("s,msg", INVALID)
def test_invalid_references(s, msg):
    with pytest.raises(refs.ReferenceError) as ei:
        refs.parse(s)
    assert msg in str(ei.value)
    assert isinstance(ei.value, ValueError)


def test_strict_parse_errors():
    with pytest.raises(refs.ReferenceError, match="^repository name must have at least one component$"):
        refs.parse_strict("")
    with pytest.raises(refs.ReferenceError, match="^repository name must be lowercase$"):
        refs.parse_strict("docker.io/library/Busybox")


def test_default_tag_and_helpers():
    r = refs.parse("busybox")
    assert r.tag is None and r.reference == "latest"
    t = r.with_default_tag()
    assert t.tag == "latest" and str(t) == "docker.io/library/busybox:latest" and t.familiar() == "busybox:latest"
    d = refs.parse("busybox@" + D64)
    assert d.with_default_tag() == d  # a digest reference gets no tag
    assert d.reference == D64
    assert refs.parse_docker("localhost:5000/x").familiar() == "localhost:5000/x:latest"
    assert t.with_digest(D64).familiar() == "busybox:latest@" + D64
    assert t.name_only().familiar() == "busybox"
    assert t.familiar_name() == "busybox"
    with pytest.raises(refs.ReferenceError):
        t.with_tag("bad tag")
    with pytest.raises(refs.ReferenceError):
        t.with_digest("sha256:short")
    assert refs.is_id("ab" * 32) and not refs.is_id("busybox")


def test_split_docker_domain():
    assert refs.split_docker_domain("busybox") == ("docker.io", "library/busybox")
    assert refs.split_docker_domain("a/b") == ("docker.io", "a/b")
    assert refs.split_docker_domain("localhost/b") == ("localhost", "b")
    assert refs.split_docker_domain("host:1/b") == ("host:1", "b")
    assert refs.split_docker_domain("index.docker.io/b") == ("docker.io", "library/b")
