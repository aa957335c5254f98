import pytest

from jsonptr import PatchConflict, PatchError, PatchTestFailed, apply_patch, make_patch


def test_add_member():
    assert apply_patch({"a": 1}, [{"op": "add", "path": "/b", "value": 2}]) == {"a": 1, "b": 2}


def test_add_at_array_index():
    doc = {"xs": [1, 3]}
    assert apply_patch(doc, [{"op": "add", "path": "/xs/1", "value": 2}]) == {"xs": [1, 2, 3]}


def test_add_to_end_of_array():
    doc = {"tags": ["a"]}
    assert apply_patch(doc, [{"op": "add", "path": "/tags/-", "value": "beta"}]) == {
        "tags": ["a", "beta"]}


def test_add_object_to_end_of_array():
    doc = {"items": []}
    result = apply_patch(doc, [{"op": "add", "path": "/items/-", "value": {"id": 7}}])
    assert result == {"items": [{"id": 7}]}


def test_input_document_untouched():
    doc = {"xs": [1]}
    apply_patch(doc, [{"op": "add", "path": "/xs/0", "value": 0}])
    assert doc == {"xs": [1]}


def test_remove_and_replace():
    doc = {"a": 1, "b": [1, 2, 3]}
    ops = [{"op": "remove", "path": "/a"}, {"op": "replace", "path": "/b/1", "value": 9}]
    assert apply_patch(doc, ops) == {"b": [1, 9, 3]}


def test_move_and_copy():
    doc = {"a": {"x": 1}, "b": {}}
    ops = [{"op": "copy", "from": "/a/x", "path": "/b/y"},
           {"op": "move", "from": "/a", "path": "/c"}]
    assert apply_patch(doc, ops) == {"b": {"y": 1}, "c": {"x": 1}}


def test_test_operation():
    apply_patch({"a": [1]}, [{"op": "test", "path": "/a", "value": [1]}])
    with pytest.raises(PatchTestFailed):
        apply_patch({"a": 1}, [{"op": "test", "path": "/a", "value": True}])


def test_errors():
    with pytest.raises(PatchError, match="unknown"):
        apply_patch({}, [{"op": "frobnicate", "path": ""}])
    with pytest.raises(PatchError, match="missing value"):
        apply_patch({}, [{"op": "add", "path": "/a"}])
    with pytest.raises(PatchConflict):
        apply_patch({"xs": []}, [{"op": "remove", "path": "/xs/0"}])
    with pytest.raises(PatchConflict):
        apply_patch({"a": {}}, [{"op": "move", "from": "/a", "path": "/a/b"}])


def test_make_patch_dicts():
    src, dst = {"a": 1, "b": 2}, {"a": 1, "c": 3}
    assert apply_patch(src, make_patch(src, dst)) == dst
