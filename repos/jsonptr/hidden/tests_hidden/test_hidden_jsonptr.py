import pytest

from jsonptr import PatchConflict, apply_patch, make_patch


@pytest.mark.parametrize("value", [3, "beta", {"name": "x"}, [1, 2], None, True, ""])
def test_append_any_value(value):
    doc = {"tags": ["a"]}
    assert apply_patch(doc, [{"op": "add", "path": "/tags/-", "value": value}]) == {
        "tags": ["a", value]}


def test_copy_and_move_to_end():
    doc = {"src": [1, 2], "dst": [0]}
    ops = [{"op": "copy", "from": "/src", "path": "/dst/-"},
           {"op": "move", "from": "/src/0", "path": "/dst/-"}]
    assert apply_patch(doc, ops) == {"src": [2], "dst": [0, [1, 2], 1]}


def test_make_patch_growing_lists_round_trip():
    src = {"xs": [1], "deep": {"ys": []}}
    dst = {"xs": [1, [2, 3], {"z": 4}], "deep": {"ys": ["a", "bc"]}}
    patch = make_patch(src, dst)
    assert apply_patch(src, patch) == dst


def test_make_patch_shrinking_lists_round_trip():
    src = {"xs": [1, 2, 3, 4]}
    dst = {"xs": [1, 5]}
    assert apply_patch(src, make_patch(src, dst)) == dst


def test_index_past_end_is_a_conflict():
    with pytest.raises(PatchConflict):
        apply_patch({"xs": [1]}, [{"op": "add", "path": "/xs/2", "value": 0}])
    assert apply_patch({"xs": [1]}, [{"op": "add", "path": "/xs/1", "value": 0}]) == {"xs": [1, 0]}


def test_appended_value_is_a_copy():
    value = {"n": [1]}
    result = apply_patch({"xs": []}, [{"op": "add", "path": "/xs/-", "value": value}])
    result["xs"][0]["n"].append(2)
    assert value == {"n": [1]}
