"""What a COPY names: sources resolved inside their tree, wildcards with Go's rules, directories
walked, and the content key."""
import os

import pytest

from dockyard.build.engine import gomatch
from dockyard.build.engine.copyplan import destination, plan
from dockyard.build.engine.errors import CopyError
from dockyard.build.engine.sources import SourceTree, sources_key


@pytest.mark.parametrize("pattern,name,ok", [
    ("*.txt", "a.txt", True), ("*.txt", "d/a.txt", False), ("d/*.txt", "d/a.txt", True),
    ("?.txt", "ab.txt", False), ("[a-c].go", "b.go", True), ("[^a-c].go", "d.go", True),
    ("[^a-c].go", "a.go", False), ("\\*", "*", True), ("\\*", "a", False), ("a[", None, None),
    ("[]a]", None, None), ("[z-a]", None, None), ("*", ".hidden", True),
])
def test_go_filepath_match(pattern, name, ok):
    if ok is None:
        with pytest.raises(gomatch.PatternError):
            gomatch.match(pattern, "x")
    else:
        assert gomatch.match(pattern, name) is ok


def test_has_wildcards():
    assert gomatch.has_wildcards("a/*.txt") and gomatch.has_wildcards("[ab]")
    assert not gomatch.has_wildcards("plain/path") and not gomatch.has_wildcards("esc\\*aped")


@pytest.fixture
def tree(tmp_path):
    r = tmp_path / "ctx"
    (r / "src" / "sub").mkdir(parents=True)
    (r / "src" / "b.txt").write_text("b")
    (r / "src" / "a.txt").write_text("a")
    (r / "src" / "sub" / "c.txt").write_text("c")
    (r / "top.txt").write_text("t")
    (r / "two.md").write_text("m")
    os.symlink("/etc", r / "etc-link")                 # points outside: resolved inside the tree
    os.symlink("src/a.txt", r / "alias")
    os.symlink("../../../../../etc/passwd", r / "src" / "up")
    (tmp_path / "outside.txt").write_text("host secret")
    return SourceTree(str(r), None)


def test_file_and_directory_sources(tree):
    [f] = tree.resolve("COPY", "top.txt")
    assert not f.is_dir and f.basename == "top.txt" and f.entries[0].kind == "file" and f.entries[0].rel == ""
    [d] = tree.resolve("COPY", "./src/")
    assert d.is_dir
    assert [e.rel for e in d.entries] == ["a.txt", "b.txt", "sub", "sub/c.txt", "up"]   # parents first, sorted
    assert [e.kind for e in d.entries][-1] == "symlink" and d.entries[-1].link.endswith("etc/passwd")


def test_symlink_sources_are_followed_inside_the_tree(tree):
    [a] = tree.resolve("COPY", "alias")
    assert a.host.endswith("src/a.txt") and a.basename == "alias"
    with pytest.raises(CopyError) as e:
        tree.resolve("COPY", "etc-link/passwd")   # the tree's own etc/passwd: there is none
    assert "file not found" in str(e.value) or "does not exist" in str(e.value)
    with pytest.raises(CopyError):
        tree.resolve("COPY", "src/up")


def test_wildcards(tree):
    names = [s.name for s in tree.resolve("COPY", "*.txt")]
    assert names == ["top.txt"]
    assert [s.name for s in tree.resolve("COPY", "src/*.txt")] == ["src/a.txt", "src/b.txt"]
    assert [s.name for s in tree.resolve("COPY", "t*")] == ["top.txt", "two.md"]
    assert [s.name for s in tree.resolve("COPY", "s?c")] == ["src"]
    with pytest.raises(CopyError, match="no source files were specified"):
        tree.resolve("COPY", "*.none")


def test_missing_and_outside_sources_are_refused_by_name(tmp_path):
    ctx = SourceTree(str(tmp_path), {})
    with pytest.raises(CopyError) as e:
        ctx.resolve("COPY", "x")
    assert str(e.value) == ("COPY failed: file not found in build context or excluded by .dockerignore: "
                            "stat x: file does not exist")
    with pytest.raises(CopyError) as e:
        ctx.resolve("ADD", "../outside.txt")
    assert str(e.value) == "ADD failed: forbidden path outside the build context: ../outside.txt"


def test_excludes(tree):
    [d] = tree.resolve("COPY", "src", excludes=("*.txt", "sub"))
    assert [e.rel for e in d.entries] == ["up"]


def test_content_key_ignores_times_but_not_contents_or_modes(tree, tmp_path):
    k1 = sources_key(tree.resolve("COPY", "src"))
    os.utime(tmp_path / "ctx" / "src" / "a.txt", (1, 1))
    assert sources_key(tree.resolve("COPY", "src")) == k1
    os.chmod(tmp_path / "ctx" / "src" / "a.txt", 0o600)
    k2 = sources_key(tree.resolve("COPY", "src"))
    assert k2 != k1


def test_context_key_uses_the_index(tmp_path):
    from dockyard.build.engine.context import FileInfo
    (tmp_path / "f").write_text("x")
    t1 = SourceTree(str(tmp_path), {"f": FileInfo("file", 0o644, digest="sha256:1")})
    t2 = SourceTree(str(tmp_path), {"f": FileInfo("file", 0o644, digest="sha256:2")})
    assert sources_key(t1.resolve("COPY", "f")) != sources_key(t2.resolve("COPY", "f"))
    unindexed = SourceTree(str(tmp_path), {})   # a file the index lacks is hashed on the spot
    assert unindexed.resolve("COPY", "f")[0].entries[0].info.digest.startswith("sha256:")


def test_destinations(tree):
    assert destination("app/", "/w") == ("/w/app", True)
    assert destination(".", "/w") == ("/w", True)
    assert destination("x", "") == ("/x", False)
    assert destination("/abs//p/../q", "/w") == ("/abs/q", False)
    two = tree.resolve("COPY", "src/*.txt")
    with pytest.raises(CopyError, match="must be a directory and end with a /"):
        plan("COPY", two, "/dst", "/")
    ops = plan("COPY", two, "/dst/", "/")
    assert [o.into_dir for o in ops] == [True, True]
    [op] = plan("ADD", tree.resolve("COPY", "top.txt"), "t", "/w", archives={0})
    assert op.unpack and op.dest == "/w/t"
