""".dockerignore: reading, Docker's pattern rules, and the walk that builds the context."""
from __future__ import annotations

import os

import pytest

from dockyard.build import DockerignoreError, PatternMatcher, keep_build_files, read_dockerignore, walk_context

EXACT, INEXACT, FAIL = "exact", "inexact", "fail"

# (pattern, path, result) -- moby/patternmatcher's table; INEXACT means only a parent matches
SINGLE = [
    ("**", "file", EXACT), ("**", "file/", EXACT), ("**/", "file", EXACT), ("**/", "file/", EXACT),
    ("**", "/", EXACT), ("**/", "/", EXACT), ("**", "dir/file", EXACT), ("**/", "dir/file", EXACT),
    ("**", "dir/file/", EXACT), ("**/", "dir/file/", EXACT), ("**/**", "dir/file", EXACT),
    ("**/**", "dir/file/", EXACT), ("dir/**", "dir/file", EXACT), ("dir/**", "dir/file/", EXACT),
    ("dir/**", "dir/dir2/file", EXACT), ("dir/**", "dir/dir2/file/", EXACT), ("**/dir", "dir", EXACT),
    ("**/dir", "dir/file", INEXACT), ("**/dir2/*", "dir/dir2/file", EXACT), ("**/dir2/*", "dir/dir2/file/", INEXACT),
    ("**/dir2/**", "dir/dir2/dir3/file", EXACT), ("**/dir2/**", "dir/dir2/dir3/file/", EXACT),
    ("**file", "file", EXACT), ("**file", "dir/file", EXACT), ("**/file", "dir/file", EXACT),
    ("**file", "dir/dir/file", EXACT), ("**/file", "dir/dir/file", EXACT), ("**/file*", "dir/dir/file", EXACT),
    ("**/file*", "dir/dir/file.txt", EXACT), ("**/file*txt", "dir/dir/file.txt", EXACT),
    ("**/file*.txt", "dir/dir/file.txt", EXACT), ("**/file*.txt*", "dir/dir/file.txt", EXACT),
    ("**/**/*.txt", "dir/dir/file.txt", EXACT), ("**/**/*.txt2", "dir/dir/file.txt", FAIL),
    ("**/*.txt", "file.txt", EXACT), ("**/**/*.txt", "file.txt", EXACT), ("a**/*.txt", "a/file.txt", EXACT),
    ("a**/*.txt", "a/dir/file.txt", EXACT), ("a**/*.txt", "a/dir/dir/file.txt", EXACT),
    ("a/*.txt", "a/dir/file.txt", FAIL), ("a/*.txt", "a/file.txt", EXACT), ("a/*.txt**", "a/file.txt", EXACT),
    ("a[b-d]e", "ae", FAIL), ("a[b-d]e", "ace", EXACT), ("a[b-d]e", "aae", FAIL), ("a[^b-d]e", "aze", EXACT),
    (".*", ".foo", EXACT), (".*", "foo", FAIL), ("abc.def", "abcdef", FAIL), ("abc.def", "abc.def", EXACT),
    ("abc.def", "abcZdef", FAIL), ("abc?def", "abcZdef", EXACT), ("abc?def", "abcdef", FAIL),
    ("**/foo/bar", "foo/bar", EXACT), ("**/foo/bar", "dir/foo/bar", EXACT), ("**/foo/bar", "dir/dir2/foo/bar", EXACT),
    ("abc/**", "abc", FAIL), ("abc/**", "abc/def", EXACT), ("abc/**", "abc/def/ghi", EXACT),
    ("**/.foo", ".foo", EXACT), ("**/.foo", "bar.foo", FAIL), ("a(b)c/def", "a(b)c/def", EXACT),
    ("a(b)c/def", "a(b)c/xyz", FAIL), ("a.|)$(}+{bc", "a.|)$(}+{bc", EXACT),
    ("dist/*.whl", "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", EXACT),
    ("a\\\\", "a\\", EXACT), ("a\\*b", "a*b", EXACT),
]

MULTI = [
    (["**", "!util/docker/web"], "util/docker/web/foo", False),
    (["**", "!util/docker/web", "util/docker/web/foo"], "util/docker/web/foo", True),
    (["**", "!dist/*.whl"], "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", False),
    (["docs", "!docs/README.md"], "docs/README.md", False),
    (["docs/", "!docs/README.md"], "docs/README.md", False),
    (["docs/*", "!docs/README.md"], "docs/README.md", False),
    (["*.go", "!fileutils.go"], "fileutils.go", False),
    (["!fileutils.go", "*.go"], "fileutils.go", True),
    (["*.md", "!README*.md", "README-secret.md"], "README-secret.md", True),
    (["*.md", "!README*.md", "README-secret.md"], "README-public.md", False),
]

# Go filepath.Match's own cases (pattern, name, matches); errors are checked separately
GLOB = [
    ("abc", "abc", True), ("*", "abc", True), ("*c", "abc", True), ("a*", "a", True), ("a*", "abc", True),
    ("a*", "ab/c", True), ("a*/b", "abc/b", True), ("a*/b", "a/c/b", False), ("a*b*c*d*e*/f", "axbxcxdxe/f", True),
    ("a*b*c*d*e*/f", "axbxcxdxexxx/f", True), ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", False),
    ("a*b*c*d*e*/f", "axbxcxdxexxx/fff", False), ("a*b?c*x", "abxbbxdbxebxczzx", True),
    ("a*b?c*x", "abxbbxdbxebxczzy", False), ("ab[c]", "abc", True), ("ab[b-d]", "abc", True),
    ("ab[e-g]", "abc", False), ("ab[^c]", "abc", False), ("ab[^b-d]", "abc", False), ("ab[^e-g]", "abc", True),
    ("a\\*b", "a*b", True), ("a\\*b", "ab", False), ("a?b", "a☺b", True), ("a[^a]b", "a☺b", True),
    ("a???b", "a☺b", False), ("a[^a][^a][^a]b", "a☺b", False), ("[a-ζ]*", "α", True), ("*[a-ζ]", "A", False),
    ("a?b", "a/b", False), ("a*b", "a/b", False), ("[\\]a]", "]", True), ("[\\-]", "-", True), ("[x\\-]", "x", True),
    ("[x\\-]", "-", True), ("[x\\-]", "z", False), ("[\\-x]", "x", True), ("[\\-x]", "-", True),
    ("[\\-x]", "a", False), ("*x", "xxx", True),
]
BAD = ["[]a]", "[-]", "[x-]", "[-x]", "\\", "[a-b-c]", "[", "[^", "[^bc", "a[", "!"]


@pytest.mark.parametrize("pattern,path,result", SINGLE)
def test_pattern_table(pattern, path, result):
    pm = PatternMatcher([pattern])
    assert pm.matches(path) is (result != FAIL)
    # walking with parent results gives the same answer as checking the parents directly
    info = None
    parent = os.path.dirname(path) if path != "/" else ""  # Go's filepath.Dir
    if parent:
        dirs = parent.split("/")
        for i in range(len(dirs)):
            _, info = pm.matches_with_parent("/".join(dirs[:i + 1]), info)
    assert pm.matches_with_parent(path, info)[0] is (result != FAIL)


@pytest.mark.parametrize("patterns,path,expected", MULTI)
def test_last_match_wins(patterns, path, expected):
    assert PatternMatcher(patterns).matches(path) is expected


@pytest.mark.parametrize("pattern,name,expected", GLOB)
def test_go_glob_semantics(pattern, name, expected):
    assert PatternMatcher([pattern]).matches(name) is expected


@pytest.mark.parametrize("pattern", BAD)
def test_malformed_patterns_are_refused(pattern):
    with pytest.raises(DockerignoreError) as info:
        PatternMatcher([pattern])
    assert "pattern" in str(info.value)


def test_context_root_is_never_excluded():
    pm = PatternMatcher(["*", "**"])
    assert pm.matches(".") is False
    assert pm.matches("./x") is True


def test_read_dockerignore_normalises():
    text = "\ufefftest1\n/test2\n/a/file/here\n\nlastfile\n# this is a comment\n! /inverted/abs/path\n!\n! \r\n" \
           "  ./x//y/../z/  \n  #not a comment\n"
    assert read_dockerignore(text) == ["test1", "test2", "a/file/here", "lastfile", "!inverted/abs/path", "!", "!",
                                       "x/z", "#not a comment"]
    assert read_dockerignore(b"a\r\nb\r\n") == ["a", "b"]
    with pytest.raises(DockerignoreError, match='illegal exclusion pattern: "!"'):
        PatternMatcher(read_dockerignore("a\n!\n"))


def test_keep_build_files():
    assert keep_build_files(["*"], "Dockerfile") == ["*", "!.dockerignore", "!Dockerfile"]
    assert keep_build_files(["*.md"], "Dockerfile") == ["*.md"]
    assert keep_build_files(["build"], "build/Dockerfile.dev") == ["build", "!build/Dockerfile.dev"]
    assert keep_build_files(["*"], None) == ["*", "!.dockerignore"]


@pytest.fixture
def context(tmp_path):
    files = ["Dockerfile", ".dockerignore", "README.md", "main.py", "cache.pyc", "notes.tmp",
             "src/app.py", "src/app.pyc", "src/deep/mod.pyc", "src/notes.tmp",
             "docs/README.md", "docs/guide.md", "docs/img/logo.png",
             "node_modules/a/index.js", "node_modules/b/index.js", "secret/key.pem"]
    for f in files:
        p = tmp_path / f
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(f)
    os.symlink("/etc/passwd", tmp_path / "link")
    os.symlink("src", tmp_path / "srclink")
    return tmp_path


def test_walk_applies_docker_rules(context):
    patterns = read_dockerignore("**/*.pyc\n*.tmp\nnode_modules\ndocs\n!docs/README.md\nsecret/\n")
    got = [e.path for e in walk_context(str(context), PatternMatcher(patterns))]
    assert got == [".dockerignore", "Dockerfile", "README.md", "docs/README.md", "link", "main.py",
                   "src", "src/app.py", "src/deep", "src/notes.tmp", "srclink"]


def test_walk_without_patterns_lists_everything_in_order(context):
    entries = list(walk_context(str(context)))
    paths = [e.path for e in entries]
    assert paths == sorted(paths, key=lambda p: p.split("/"))
    assert len(paths) == 26
    link = next(e for e in entries if e.path == "srclink")
    assert not link.is_dir  # symbolic links are not followed
    assert next(e for e in entries if e.path == "src").is_dir


def test_walk_excluding_everything_but_one_file(context):
    got = [e.path for e in walk_context(str(context), PatternMatcher(["*", "!src/app.py"]))]
    assert got == ["src/app.py"]


def test_walk_reports_unreadable_context(tmp_path):
    with pytest.raises(OSError, match="cannot read build context directory"):
        list(walk_context(str(tmp_path / "missing")))
