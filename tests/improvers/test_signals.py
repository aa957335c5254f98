"""The ranker's consistency signals: what an edit does to the names of its function."""
from ouro.agent.templates import generate
from ouro.improvers.learn.signals import FileSignals, signatures

NODES = '''
class BinOp:
    op: str
    left: object
    right: object


def parse(tok, left, right):
    return BinOp(tok.value, right, left)
'''

MATRIX = '''
def transpose(self):
    rows, cols = self.shape
    return [[self.data[r][c] for r in range(cols)] for c in range(cols)]
'''


def _signals_of(source: str, line: int, before: str, after: str):
    sigs = signatures([source])
    cands = [c for c in generate("m.py", source, [line]) if c.before == before and c.after == after]
    assert cands, f"no candidate {before!r} -> {after!r} at line {line}"
    return FileSignals(source, sigs)(line, cands[0].before, cands[0].after)


def test_signatures_come_from_defs_classes_and_dataclass_fields():
    sigs = signatures([NODES, "class P:\n    def __init__(self, a, b): pass\n", "def broken(:"])
    assert sigs["BinOp"] == ("op", "left", "right")
    assert sigs["parse"] == ("tok", "left", "right")
    assert sigs["P"] == ("a", "b")


def test_swapping_arguments_back_to_their_parameter_names_scores_as_a_match():
    revived, killed, introduced, gone, matches, repeats = _signals_of(NODES, 9, "right, left", "left, right")
    assert matches == 4   # two arguments now match, two no longer match the other parameter
    assert (revived, killed, introduced, gone, repeats) == (0, 0, 0, 0, 0)


def test_giving_an_unused_variable_its_use_back_is_seen():
    revived, killed, introduced, gone, matches, repeats = _signals_of(MATRIX, 4, "cols", "rows")
    assert revived == 1    # `rows` was assigned and never read
    assert repeats == -1   # `cols` no longer twice on the line
    assert (killed, introduced, gone, matches) == (0, 0, 0, 0)


def test_an_edit_that_leaves_a_variable_unread_or_drops_a_name_is_seen():
    src = "def f(a, b):\n    total = a + b\n    return total\n"
    sig = FileSignals(src, {})
    assert sig(2, "a + b", "a") == (0.0, 1.0, 0.0, 0.0, 0.0, 0.0)        # parameter `b` no longer read
    assert sig(2, "a + b", "a + c") == (0.0, 1.0, 1.0, 0.0, 0.0, 0.0)    # and `c` is new
    assert sig(3, "total", "a") == (0.0, 1.0, 0.0, 0.0, 0.0, 0.0)        # `total` assigned, never read
    assert sig(99, "x", "y") == (0.0,) * 6                               # outside any function: no signal
