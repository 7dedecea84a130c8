"""``docker rmi`` / ``docker image prune`` semantics and messages."""
from __future__ import annotations

import pytest
from images_testlib import add_image

from dockyard.images.errors import ImageConflict, ImageNotFound
from dockyard.images.store import ImageStore


def test_rmi_one_of_several_tags_only_untags(store, make_image):
    img = make_image(tags=["app:1", "app:2"])
    assert store.remove("app:1") == [{"Untagged": "app:1"}]
    assert store.get(img.id).repo_tags == ["app:2"]


def test_rmi_last_tag_deletes_image_layers_and_blobs(store, make_image):
    img = make_image(tags=["app"], layers=[{"a": "1"}, {"b": "2"}])
    blobs = {img.id, img.manifest.digest, *(x.digest for x in img.layers)}
    assert blobs <= set(store.content.walk())
    out = store.remove("app")
    assert out[0] == {"Untagged": "app:latest"}
    assert out[1] == {"Deleted": img.id}
    assert out[2:] == [{"Deleted": ch} for ch in img.chain_ids]
    assert not store.exists(img.id)
    assert not blobs & set(store.content.walk())


def test_rmi_keeps_layers_shared_with_other_images(store):
    a = add_image(store, layers=[{"base": "1"}, {"a": "1"}], tags=["a"])
    b = add_image(store, layers=[{"base": "1"}, {"b": "1"}], tags=["b"])
    out = store.remove("a")
    deleted = [x["Deleted"] for x in out if "Deleted" in x]
    assert a.chain_ids[0] not in deleted and a.chain_ids[1] in deleted
    assert b.layers[0].digest in set(store.content.walk())
    assert a.layers[1].digest not in set(store.content.walk())
    assert store.get("b").id == b.id


def test_rmi_by_id_with_tags_in_several_repositories_must_be_forced(store, make_image):
    img = make_image(tags=["one", "two"])
    short = img.short_id
    with pytest.raises(ImageConflict, match=rf"^conflict: unable to delete {short} \(must be forced\) - "
                                            r"image is referenced in multiple repositories$"):
        store.remove(short)
    out = store.remove(short, force=True)
    assert out == [{"Untagged": "one:latest"}, {"Untagged": "two:latest"}, {"Deleted": img.id},
                   {"Deleted": img.chain_ids[0]}]


def test_rmi_by_id_with_one_tag_untags_and_deletes(store, make_image):
    img = make_image(tags=["solo"])
    out = store.remove(img.id)
    assert out[:2] == [{"Untagged": "solo:latest"}, {"Deleted": img.id}]


def test_rmi_last_tag_takes_the_repository_digests_along(store, make_image):
    img = make_image(tags=["reg.local/app:v1"])
    with store.db.write() as c:  # as a pull by digest would have recorded it
        c.execute("INSERT INTO refs(ref, image_id, kind, repo, added) VALUES (?,?,?,?,0)",
                  (f"reg.local/app@{img.manifest.digest}", img.id, "digest", "reg.local/app"))
    out = store.remove("reg.local/app:v1")
    assert out[:2] == [{"Untagged": "reg.local/app:v1"}, {"Untagged": f"reg.local/app@{img.manifest.digest}"}]
    assert {"Deleted": img.id} in out


def test_container_conflicts(tmp_path):
    uses: dict[str, list] = {}
    store = ImageStore(tmp_path / "s", in_use=lambda image_id: uses.get(image_id, []))
    img = add_image(store, tags=["app"])
    uses[img.id] = [("c0ffee" * 10 + "abcd", False)]
    with pytest.raises(ImageConflict, match=r'^conflict: unable to remove repository reference "app" \(must force\)'
                                            rf" - container c0ffeec0ffee is using its referenced image {img.short_id}$"):
        store.remove("app")
    with pytest.raises(ImageConflict, match=rf"unable to delete {img.short_id} \(must be forced\) - image is being "
                                            r"used by stopped container c0ffeec0ffee"):
        store.remove(img.id)
    uses[img.id] = [("beef" * 16, True)]
    with pytest.raises(ImageConflict, match=r"\(cannot be forced\) - image is being used by running container beefbeefbeef"):
        store.remove(img.id, force=True)
    # forcing a name while a container runs: the tag goes, the image stays (dangling), like Docker
    assert store.remove("app", force=True) == [{"Untagged": "app:latest"}]
    assert store.get(img.id).repo_tags == []
    uses.clear()
    assert store.remove(img.id)[0] == {"Deleted": img.id}
    store.close()


def test_parent_child_images(store, make_image):
    parent = make_image()
    child = make_image(tags=["child"], parent=parent.id)
    assert store.children(parent.id) == [child.id]
    with pytest.raises(ImageConflict, match="cannot be forced.*dependent child images"):
        store.remove(parent.id, force=True)
    out = store.remove("child")
    # removing the child prunes the untagged parent
    assert {"Deleted": child.id} in out and {"Deleted": parent.id} in out
    assert store.images() == []


def test_rmi_unknown(store):
    with pytest.raises(ImageNotFound, match="No such image: nope:latest"):
        store.remove("nope")


def test_prune_dangling_only_by_default(store, make_image):
    dangling = make_image()
    tagged = make_image(tags=["keep"])
    report = store.prune()
    assert {"Deleted": dangling.id} in report["ImagesDeleted"]
    assert report["SpaceReclaimed"] == dangling.size
    assert [i.id for i in store.images()] == [tagged.id]


def test_prune_all_skips_images_in_use_and_honours_filters(tmp_path):
    uses: dict[str, list] = {}
    store = ImageStore(tmp_path / "s", in_use=lambda i: uses.get(i, []))
    used = add_image(store, tags=["used"])
    labelled = add_image(store, tags=["lab"], labels={"keep": "yes"})
    old = add_image(store, tags=["old"], created="2001-01-01T00:00:00Z")
    new = add_image(store, tags=["new"], created="2030-01-01T00:00:00Z")
    uses[used.id] = [("c" * 64, True)]
    report = store.prune(all=True, filters={"until": ["2020-01-01T00:00:00Z"]})
    assert [x for x in report["ImagesDeleted"] if "Deleted" in x][0] == {"Deleted": old.id}
    report = store.prune(all=True, filters={"label!": ["keep=yes"]})
    deleted = {x.get("Deleted") for x in report["ImagesDeleted"]}
    assert new.id in deleted and labelled.id not in deleted and used.id not in deleted
    assert {i.id for i in store.images()} == {used.id, labelled.id}
    store.close()
