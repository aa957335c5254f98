"""Issue 15's fix-pattern families, each on a small buggy function written for its test.

Every case is a classic one-line bug and the check that fails on it. A test asserts that the
family generates the fixing candidate, that the candidate passes the check (and the buggy code
does not), and, for some, that the built-in policy proposes it among its first few edits when
only that line is suspicious (the order a repair would try them in).
"""
from __future__ import annotations

import ast
import random
import textwrap

import pytest

from ouro.agent.localize import Localization, Suspicious
from ouro.agent.policies.builtin import BuiltinPolicy, evidence_boosts
from ouro.agent.search import Node, Observation, SearchContext
from ouro.agent.templates import PRIORS, TEMPLATES, generate, name_similarity


def _src(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def _line(src: str, needle: str) -> int:
    return next(i for i, ln in enumerate(src.splitlines(), 1) if needle in ln)


def _run(source: str, check: str) -> bool:
    """Does `check` (an expression) hold after running source? Errors count as no."""
    ns: dict = {}
    try:
        exec(compile(source, "m.py", "exec"), ns)
        return bool(eval(check, ns))
    except Exception:  # noqa: BLE001 - a crash is a failing check
        return False


def _fixes(src: str, needle: str, template: str, check: str, *, lines=None) -> list:
    """The candidates of `template` at the line holding `needle` that pass `check`; the buggy
    source must fail it."""
    assert not _run(src, check), "the bug must make the check fail"
    cands = generate("m.py", src, lines or [_line(src, needle)])
    return [c for c in cands if c.template == template and _run(c.new_source, check)]


def _policy_rank(src: str, needle: str, check: str, failing: str = "assert False", n: int = 40) -> int | None:
    """1-based position of the first proposal passing `check` among the built-in policy's first
    n, with only the line holding `needle` suspicious and `failing` as the test's message."""
    line = _line(src, needle)
    ctx = SearchContext(base_files={"m.py": src}, target_tests=["tests/test_m.py::test_it"],
                        localization=Localization([Suspicious("m.py", line, 1.0)], []), rng=random.Random(0))
    root = Node(0, None, 0, {}, [], Observation(status="failed", target=1, failing={"tests/test_m.py::test_it": failing}))
    for i, p in enumerate(BuiltinPolicy().propose(root, ctx, n), 1):
        if _run(p.files.get("m.py", src), check):
            return i
    return None


def test_every_family_is_registered_with_a_prior():
    for name in ("argument_off_by_one", "compare_constant", "add_guard", "guard_return", "wrap_call", "unwrap_call",
                 "literal_shape", "literal_to_name", "slice_argument"):
        assert name in TEMPLATES and 0 < PRIORS[name] <= 1
    assert set(TEMPLATES) == set(PRIORS)


# -- operand order ------------------------------------------------------------------------------

def test_string_concatenation_in_the_wrong_order():
    src = _src('''
        def with_suffix(name, suffix):
            return suffix + name
    ''')
    fixes = _fixes(src, "return", "swap_operands", "with_suffix('report', '.txt') == 'report.txt'")
    assert fixes and fixes[0].after == "name + suffix"
    assert _policy_rank(src, "return", "with_suffix('report', '.txt') == 'report.txt'", n=12)


@pytest.mark.parametrize("expr, fixed", [("shift << bits", "bits << shift"), ("total % step", "step % total"),
                                         ("b ** a", "a ** b"), ("'-' + s", "s + '-'")])
def test_every_non_commuting_operator_is_swapped(expr, fixed):
    src = f"def f(a, b, s, bits, shift, total, step):\n    return {expr}\n"
    assert any(c.template == "swap_operands" and c.after == fixed for c in generate("m.py", src, [2]))


def test_numeric_addition_is_not_swapped_and_unknown_addition_weighs_little():
    src = "def f(a, b):\n    x = a + 1\n    return a + b\n"
    cands = [c for c in generate("m.py", src, [2, 3]) if c.template == "swap_operands"]
    assert [c.after for c in cands] == ["b + a"] and cands[0].weight < 0.5


# -- each element of a tuple subscript, each argument -------------------------------------------

def test_offset_on_the_wrong_element_of_a_tuple_subscript():
    src = _src('''
        def above(grid, r, c):
            return grid[r, c - 1]
    ''')
    check = "above({(r, c): 10 * r + c for r in range(4) for c in range(4)}, 2, 3) == 13"
    fixes = _fixes(src, "return", "index_off_by_one", check)
    assert [c.after for c in fixes] == ["r - 1, c"]
    assert _policy_rank(src, "return", check, n=10)


def test_each_element_of_a_tuple_subscript_on_its_own_and_swapped():
    src = "def f(grid, r, c):\n    return grid[c, r]\n"
    cands = generate("m.py", src, [2])
    assert any(c.template == "index_off_by_one" and c.after == "r + 1" for c in cands)
    assert any(c.template == "swap_arguments" and c.after == "r, c" for c in cands)


def test_call_arguments_each_on_its_own_and_the_offset_moved():
    src = _src('''
        def cell(board, row, col):
            return board[row][col]

        def left_of_each(board, n):
            out = []
            for i in range(n):
                out.append(cell(board, i, i))
            return out

        def above(board, r, c):
            return cell(board, r, c - 1)
    ''')
    board = "[[0, 1, 2], [3, 4, 5], [6, 7, 8]]"
    assert _fixes(src, "return cell(board, r", "argument_off_by_one", f"above({board}, 2, 1) == 4")
    diagonal_left = [c for c in generate("m.py", src, [_line(src, "out.append")]) if c.template == "argument_off_by_one"]
    assert {c.after for c in diagonal_left} >= {"i + 1", "i - 1"}   # each numeric argument on its own
    assert all("board" not in c.before for c in diagonal_left)       # not the board: not a number


def test_any_two_arguments_are_swapped_neighbours_first():
    src = "def f(a, b, c):\n    return g(a, b, c)\n"
    swaps = {c.after: c.weight for c in generate("m.py", src, [2]) if c.template == "swap_arguments"}
    assert swaps["c, b, a"] < swaps["b, a"] == swaps["c, b"]


# -- attributes of other objects and their classes ----------------------------------------------

# each case: buggy source, the line's needle, the template, a check the fix must pass, and the one
# text every passing fix writes (a set: a template may offer the same text at two places)
_ATTRIBUTE_CASES = [
    pytest.param('''
        from collections import namedtuple

        Edge = namedtuple("Edge", "src dst weight")

        def successors(edges, node):
            return [e.src for e in edges if e.src == node]
    ''', "return", "wrong_attribute", "successors([Edge(1, 2, 0), Edge(2, 3, 0), Edge(1, 4, 0)], 1) == [2, 4]",
        "e.dst", id="field_of_a_namedtuple_confused_with_another"),
    pytest.param('''
        class Span:
            def __init__(self, start, end):
                self.start = start
                self.end = end

        def overlap(a, b):
            return min(a.end, b.end) - max(a.start, b.end)
    ''', "return", "wrong_attribute", "overlap(Span(0, 10), Span(5, 20)) == 5",
        "b.start", id="field_of_a_class_the_module_defines_on_another_object"),
    pytest.param('''
        from dataclasses import dataclass

        @dataclass
        class Money:
            amount: int
            currency: str

            def same(self, other):
                return self.amount == other.amount and other.currency == other.currency
    ''', "return self.amount", "wrong_variable",
        "not Money(1, 'EUR').same(Money(1, 'USD')) and Money(1, 'EUR').same(Money(1, 'EUR'))",
        "self", id="the_same_field_of_self_where_other_was_written"),
]


@pytest.mark.parametrize("source, needle, template, check, after", _ATTRIBUTE_CASES)
def test_attribute_confusions_are_fixed(source, needle, template, check, after):
    fixes = _fixes(_src(source), needle, template, check)
    assert {c.after for c in fixes} == {after}


# -- augmented assignment operators --------------------------------------------------------------

@pytest.mark.parametrize("op, fixed, check", [
    ("|=", "&=", "common_letters(['abc', 'bcd', 'cde']) == {'c'}"),
    ("^=", "|=", "common_letters(['ab', 'ab']) == {'a', 'b'}"),
])
def test_set_update_operator(op, fixed, check):
    src = _src(f'''
        def common_letters(words):
            common = set(words[0])
            for w in words[1:]:
                common {op} set(w)
            return common
    ''')
    fixes = _fixes(src, op, "arith_swap", check)
    assert fixed in [c.after for c in fixes]


def test_subtracting_what_should_be_added_and_assignment_for_accumulation():
    src = _src('''
        def deposit(balance, amounts):
            for a in amounts:
                balance -= a
            return balance
    ''')
    assert [c.after for c in _fixes(src, "-=", "arith_swap", "deposit(10, [1, 2]) == 13")] == ["+="]
    src2 = _src('''
        def total(amounts):
            t = 0
            for a in amounts:
                t = a
            return t
    ''')
    assert _fixes(src2, "t = a", "assign_update", "total([1, 2, 3]) == 6")


# -- wrapping and unwrapping a call -------------------------------------------------------------

def test_a_method_the_module_applies_elsewhere_is_wrapped_around_a_bare_value():
    src = _src('''
        STOP = {"the", "a", "of"}

        def normalize(word):
            return word.lower()

        def content_words(text):
            return [w for w in text.split() if w not in STOP]

        def count_stop(words):
            return sum(1 for w in words if w.strip().lower() in STOP)
    ''')
    check = "content_words('The cat of Rome') == ['cat', 'Rome']"
    fixes = _fixes(src, "return [w for w", "wrap_call", check)
    assert {"w.lower()", "normalize(w)"} <= {c.after for c in fixes}
    assert _policy_rank(src, "return [w for w", check, n=25)


def test_a_builtin_wrapped_around_a_value_that_needs_measuring():
    src = _src('''
        def too_many(items, limit):
            return items > limit
    ''')
    assert any(c.after == "len(items)" for c in _fixes(src, "return", "wrap_call", "too_many([1, 2, 3], 2)"))


def test_a_call_that_should_not_be_there_is_unwrapped():
    src = _src('''
        def mean(values):
            return sum(values) / len(set(values))
    ''')
    fixes = _fixes(src, "return", "unwrap_call", "mean([2, 2, 5]) == 3")
    assert [c.after for c in fixes] == ["values"]
    src2 = "def key(name):\n    return name.strip()\n"
    assert any(c.template == "unwrap_call" and c.after == "name" for c in generate("m.py", src2, [2]))


def test_wrapping_leaves_constructors_exceptions_and_callees_alone():
    src = _src('''
        class Box:
            pass

        def f(x):
            if x < 0:
                raise ValueError(f"bad {x}")
            return Box()
    ''')
    cands = generate("m.py", src, [_line(src, "raise"), _line(src, "return Box")])
    assert not [c for c in cands if c.template in ("wrap_call", "unwrap_call")]


# -- a constant that should be a name or a condition already computed ----------------------------

def test_constant_returned_instead_of_the_flag_computed():
    src = _src('''
        def has_duplicates(items):
            seen = set()
            found = False
            for x in items:
                if x in seen:
                    found = True
                    break
                seen.add(x)
            return False
    ''')
    check = "has_duplicates([1, 2, 1]) and not has_duplicates([1, 2])"
    fixes = _fixes(src, "return False", "literal_to_name", check)
    assert [c.after for c in fixes] == ["found"]
    assert _policy_rank(src, "return False", check, n=8)


def test_constant_returned_instead_of_a_comparison_already_made():
    src = _src('''
        def at_least(xs, n):
            enough = len(xs) >= n
            return True
    ''')
    assert _fixes(src, "return True", "literal_to_name", "at_least([1, 2], 2) and not at_least([1], 2)")


# -- guards ---------------------------------------------------------------------------------------

def test_emptiness_guard_before_an_index_goes_first():
    src = _src('''
        PAIRS = {")": "(", "]": "["}

        def balanced(text):
            stack = []
            for ch in text:
                if ch in "([":
                    stack.append(ch)
                elif ch in ")]":
                    if stack[-1] != PAIRS[ch]:
                        return False
                    stack.pop()
            return not stack
    ''')
    check = "balanced('([])') and not balanced('(]') and not balanced(')')"
    fixes = _fixes(src, "if stack[-1]", "add_guard", check)
    assert [c.after for c in fixes] == ["not stack or stack[-1] != PAIRS[ch]"]
    # an IndexError is what the failing test shows
    assert _policy_rank(src, "if stack[-1]", check, failing="IndexError: list index out of range", n=10)


def test_none_guard_for_a_parameter_that_defaults_to_none():
    src = _src('''
        def clamp(value, low=None, high=None):
            if value < low:
                return low
            if high is not None and value > high:
                return high
            return value
    ''')
    fixes = _fixes(src, "if value < low", "add_guard", "clamp(5) == 5 and clamp(1, low=2) == 2")
    assert "low is not None and value < low" in [c.after for c in fixes]


@pytest.mark.parametrize("bug, check", [
    ("if level >= threshold:", "should_log(1, 3, verbose=True) and not should_log(1, 3) and should_log(3, 3)"),
    ("if level >= threshold or verbose:", "not should_log(1, 3, verbose=True, quiet=True) and should_log(3, 3)"),
])
def test_a_flag_the_condition_ignores(bug, check):
    src = _src(f'''
        def should_log(level, threshold, verbose=False, quiet=False):
            {bug}
                return True
            return False
    ''')
    assert _fixes(src, bug, "add_guard", check)


def test_early_return_for_the_case_the_code_does_not_handle():
    src = _src('''
        def first_word(text):
            words = text.split()
            return words[0]
    ''')
    fixes = _fixes(src, "return words[0]", "guard_return", "first_word('') is None and first_word('a b') == 'a'")
    assert fixes and fixes[0].after.split() == ["if", "not", "words:", "return", "None"]


def test_early_exit_returns_what_the_function_already_returns_and_continues_in_loops():
    src = _src('''
        def total_len(rows):
            if rows is None:
                return 0
            n = 0
            for row in rows:
                n += len(row[0])
            return n
    ''')
    fixes = _fixes(src, "n += len", "guard_return", "total_len([['ab'], [], ['c']]) == 3")
    assert any("continue" in c.after for c in fixes)
    cands = [c for c in generate("m.py", src, [_line(src, "n += len")]) if c.template == "guard_return"]
    assert any("return 0" in c.after for c in cands)


# -- literal shape --------------------------------------------------------------------------------

def test_worklist_that_starts_empty_instead_of_with_the_start():
    src = _src('''
        def preorder(children, root):
            order = []
            stack = []
            while stack:
                node = stack.pop()
                order.append(node)
                stack.extend(reversed(children.get(node, [])))
            return order
    ''')
    check = "preorder({1: [2, 3], 2: [4]}, 1) == [1, 2, 4, 3]"
    fixes = _fixes(src, "stack = []", "literal_shape", check)
    assert [c.after for c in fixes] == ["[root]"]
    assert _policy_rank(src, "stack = []", check, n=10)


@pytest.mark.parametrize("line, fixed, check", [
    ("result = ''", "None", "middle([]) is None and middle(['a', 'b', 'c']) == 'b'"),
    ("result = None", "''", "middle([]) == '' and middle(['a', 'b', 'c']) == 'b'"),
], ids=["empty_string_where_none_is_meant", "none_where_an_empty_string_is_meant"])
def test_empty_string_versus_none(line, fixed, check):
    src = _src(f'''
        def middle(parts):
            {line}
            if len(parts) == 3:
                result = parts[1]
            return result
    ''')
    assert [c.after for c in _fixes(src, line, "literal_shape", check)] == [fixed]


def test_singleton_that_should_be_empty_and_float_start():
    src = "def f(x):\n    acc = [x]\n    scale = 0.0\n    return acc, scale\n"
    cands = generate("m.py", src, [2, 3])
    assert any(c.template == "literal_shape" and c.after == "[]" for c in cands)
    assert any(c.template == "literal_shape" and c.after == "1.0" for c in cands)


def test_zero_versus_one_as_a_starting_product():
    src = _src('''
        def product(xs):
            p = 0
            for x in xs:
                p *= x
            return p
    ''')
    assert any(c.after == "1" and _run(c.new_source, "product([2, 3]) == 6") for c in generate("m.py", src, [2]))


# -- slicing a sequence that is passed on ---------------------------------------------------------

def test_recursion_that_never_shrinks_its_input():
    src = _src('''
        def interleave(a, b):
            if not a:
                return list(b)
            return [a[0]] + interleave(b, a)
    ''')
    check = "interleave([1, 3, 5], [2, 4]) == [1, 2, 3, 4, 5]"
    fixes = _fixes(src, "return [a[0]]", "slice_argument", check)
    assert [c.after for c in fixes] == ["a[1:]"]
    assert _policy_rank(src, "return [a[0]]", check, failing="RecursionError: maximum recursion depth exceeded", n=10)


def test_only_sequences_are_sliced():
    src = "def f(n, xs):\n    for x in xs:\n        g(n, xs)\n"
    sliced = {c.before for c in generate("m.py", src, [3]) if c.template == "slice_argument"}
    assert sliced == {"xs"}


# -- a comparison and its constant together -------------------------------------------------------

def test_base_case_that_misses_the_inputs_below_it():
    src = _src('''
        def countdown(n):
            if n == 1:
                return ["liftoff"]
            return [n] + countdown(n - 1)
    ''')
    check = "countdown(3) == [3, 2, 1, 'liftoff'] and countdown(-1) == ['liftoff']"
    fixes = _fixes(src, "if n == 1", "compare_constant", check)
    assert [c.after.strip() for c in fixes] == ["<= 0"]
    assert _policy_rank(src, "if n == 1", check, n=15)


def test_equivalent_comparisons_are_offered_once():
    src = "def f(n):\n    return n == 1\n"
    cands = [c.after.strip() for c in generate("m.py", src, [2]) if c.template == "compare_constant"]
    assert "<= 0" in cands and "< 1" not in cands   # the same predicate on integers
    assert "!= 1" not in cands and "== 2" not in cands   # compare_swap and constant_off_by_one offer those


# -- bookkeeping copied or adapted ----------------------------------------------------------------

def test_counter_update_adapted_from_the_sibling_branch():
    src = _src('''
        def diffstat(lines):
            added = 0
            removed = 0
            for line in lines:
                if line.startswith("+"):
                    added += 1
                elif line.startswith("-"):
                    pass
            return added, removed
    ''')
    check = "diffstat(['+a', '-b', '-c', ' d']) == (1, 2)"
    fixes = _fixes(src, "elif line", "insert_statement", check, lines=[_line(src, "pass")])
    assert fixes and all("removed += 1" in c.after for c in fixes)
    assert _policy_rank(src, "pass", check, n=6)


def test_statement_copied_from_the_sibling_branch():
    src = _src('''
        def split_signs(xs):
            pos, neg = [], []
            for x in xs:
                if x >= 0:
                    pos.append(x)
                    seen = x
                else:
                    neg.append(x)
            return pos, neg, seen
    ''')
    fixes = _fixes(src, "neg.append", "insert_statement", "split_signs([1, -2]) == ([1], [-2], -2)")
    assert any(c.after.strip() == "seen = x" for c in fixes)


def test_while_loop_missing_its_step():
    src = _src('''
        def index_of(xs, target):
            i = 0
            while i < len(xs):
                if xs[i] == target:
                    return i
            return -1
    ''')
    loop = _line(src, "while")
    cands = [c for c in generate("m.py", src, [loop]) if c.template == "insert_statement"]
    assert cands and cands[0].after.strip() == "i += 1" and cands[0].weight > 1


# -- similar names first, and names that do not exist ---------------------------------------------

def test_similar_names_come_before_the_long_tail():
    assert name_similarity("total_count", "total") > name_similarity("total_count", "items") == 1.0
    assert name_similarity("lenght", "length") > 1 and name_similarity("row_idx", "row") > 1
    src = _src('''
        def average(items, weights):
            total = 0
            count = 0
            for x in items:
                total += x
                count += 1
            return totals / count if count else 0.0
    ''')
    fixes = _fixes(src, "return totals", "wrong_variable", "average([1, 2, 3], None) == 2")
    assert [c.after for c in fixes] == ["total"]
    in_scope = _src('''
        def mean_price(prices):
            total = sum(prices)
            n = len(prices)
            total_count = 0
            return total_count / n
    ''')
    weights = {c.after: c.weight for c in generate("m.py", in_scope, [5])
               if c.template == "wrong_variable" and c.before == "total_count"}
    assert weights["total"] > weights["prices"] == weights["n"]   # the look-alike first, then the long tail


def test_a_name_that_exists_nowhere_is_replaced_by_the_defined_names_that_look_like_it():
    src = _src('''
        def average(values):
            total = 0
            for v in values:
                total += v
            return total_count / len(values)
    ''')
    check = "average([1, 2, 3]) == 2"
    cands = [c for c in generate("m.py", src, [_line(src, "return")]) if c.template == "wrong_variable"]
    assert cands[0].after == "total" and _run(cands[0].new_source, check)
    assert _policy_rank(src, "return", check, failing="NameError: name 'total_count' is not defined", n=3) == 1
    # a name the module defines elsewhere (a global, an import, a builtin) is not a NameError
    assert not [c for c in generate("m.py", "import os\n\ndef f():\n    return os, len, LIMIT\n\nLIMIT = 3\n", [4])
                if c.template == "wrong_variable"]


def test_failure_messages_steer_the_new_families():
    assert evidence_boosts(["NameError: name 'x' is not defined"]).get("wrong_variable", 1) > 1
    assert evidence_boosts(["IndexError: list index out of range"]).get("add_guard", 1) > 1
    assert evidence_boosts(["AttributeError: 'NoneType' object has no attribute 'x'"]).get("guard_return", 1) > 1
    assert evidence_boosts(["RecursionError: maximum recursion depth exceeded"]).get("slice_argument", 1) > 1
    assert evidence_boosts(["TypeError: '>' not supported between instances of 'list' and 'int'"]).get("wrap_call", 1) > 1


def test_no_family_floods_a_line():
    """A dense line of real-looking code: each family offers a handful of variants, not dozens."""
    src = _src('''
        from collections import namedtuple

        Item = namedtuple("Item", "name price qty tags")

        def summary(items, tax=None, strict=False, sep=", "):
            lines, total, seen = [], 0, set()
            for it in items:
                if it.price > 0 and it.name not in seen and (tax is None or it.qty < len(it.tags)):
                    total += it.price * it.qty + (tax or 0) * len(lines[-1:])
                    lines.append(sep.join([it.name.strip(), str(it.price), str(total)]))
            return sep.join(lines), total
    ''')
    counts: dict[str, int] = {}
    for c in generate("m.py", src, list(range(6, 13))):
        counts[(c.template, c.line)] = counts.get((c.template, c.line), 0) + 1
    new = {"argument_off_by_one", "compare_constant", "add_guard", "guard_return", "wrap_call", "unwrap_call",
           "literal_shape", "literal_to_name", "slice_argument"}
    worst = max(n for (t, _), n in counts.items() if t in new)
    assert worst <= 40, sorted(((n, k) for k, n in counts.items()), reverse=True)[:5]
    for c in generate("m.py", src, list(range(6, 13))):
        ast.parse(c.new_source)


def test_the_learned_ranker_scores_the_new_families():
    """The bundled checkpoint predates these templates: their names map to the unknown id and
    the ranker still scores them (finite, in [0, 1]), with the prior it reads from PRIORS."""
    from ouro.agent.policies.base import RankContext
    from ouro.improvers.learn.adapter import BUNDLED, LearnedRanker
    from ouro.improvers.learn.features import TEMPLATE_IDS

    src = _src('''
        def summary(items, limit=None, strict=False):
            out = []
            for it in items:
                if it.price > limit:
                    out.append(str(it.name) + ":" + it.kind)
                out.insert(len(out), it.kind)
            if out == 1:
                return False
            return summary(items, limit) + [len(out)]
    ''')
    cands = generate("m.py", src, list(range(1, 11)))
    new = {"argument_off_by_one", "compare_constant", "add_guard", "guard_return", "wrap_call", "unwrap_call",
           "literal_shape", "literal_to_name", "slice_argument"}
    assert new <= {c.template for c in cands}
    assert all(TEMPLATE_IDS.get(name, 0) == 0 for name in new)
    loc = Localization([Suspicious("m.py", ln, 1.0 / ln) for ln in range(1, 11)], [])
    context = RankContext(issue="", base_files={"m.py": src}, node_files={}, target_tests=[], localization=loc)
    scores = LearnedRanker(BUNDLED)(cands, context)
    assert len(scores) == len(cands) and all(0.0 <= s <= 1.0 for s in scores)


