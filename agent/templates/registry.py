"""The template registry (name -> node types and function), the templates' priors, and
`generate`, which applies them at the suspicious lines of a file."""
from __future__ import annotations

import ast
import bisect
from typing import Callable

from ouro.agent.templates.code import Candidate, Context, Source
from ouro.agent.templates.classic import (t_argument_off_by_one, t_arith_swap, t_assign_update, t_bool_swap,
                                          t_bound_off_by_one, t_break_continue, t_compare_swap,
                                          t_constant_off_by_one, t_delete_statement, t_index_off_by_one,
                                          t_insert_statement, t_method_call, t_misplaced_return, t_missing_return,
                                          t_negate_condition, t_remove_condition, t_slice_bounds, t_swap_arguments,
                                          t_swap_operands, t_unary_remove, t_wrong_attribute, t_wrong_constant,
                                          t_wrong_default, t_wrong_variable)
from ouro.agent.templates.patterns import (t_add_guard, t_compare_constant, t_guard_return, t_literal_shape,
                                           t_literal_to_name, t_slice_argument, t_unwrap_call, t_wrap_call)


# Template priors: how likely each kind of fix is before looking at the code, from how often it
# occurs among real bug fixes. The built-in policy multiplies them with location scores and
# spreads each over the variants it offers at a line (spread_prior); a learned ranker replaces them.
#
# The studies, and the figures taken from each (checked against the published data):
#  [TSSB] Richter & Wehrheim 2022, "TSSB-3M: Mining single statement bugs at massive scale"
#         (Python; counts in the dataset's README, of the ~1.44M fixes that match a pattern):
#         Change Identifier Used 237K (16.4%), Change Binary Operand 174K (12.1%), Same Function
#         More Args 150K (10.4%), Wrong Function Name 134K (9.3%), Add Function Around Expression
#         117K (8.1%), Change Attribute Used 104K (7.2%), Change Numeric Literal 97K (6.7%), More
#         Specific If 68K (4.7%), Add Method Call 60K (4.2%), Add Elements To Iterable 57K (4.0%),
#         Change Boolean Literal 37K (2.6%), Change Binary Operator 29K (2.0%), Less Specific If 22K
#         (1.5%), Change Unary Operator 15K (1.0%), Same Function Swap Args 8K (0.6%), Change
#         Constant Type 6K (0.4%).
#  [MSS]  Karampatsis & Sutton 2020, "How often do single-statement bugs occur? The ManySStuBs4J
#         dataset" (Java, 1000 projects, 63,923 pattern matches): Change Identifier Used 22,668
#         (35%), Wrong Function Name 10,179 (16%), Change Numeric Literal 5,447 (8.5%), Less
#         Specific If 2,813 (4.4%), More Specific If 2,381 (3.7%), Change Binary Operator 2,241
#         (3.5%), Change Boolean Literal 1,842 (2.9%), Change Operand 807 (1.3%), Swap Args 612 (1.0%).
#  [D4J]  Sobreira et al. 2018, "Dissection of a bug dataset: anatomy of 395 patches from
#         Defects4J" (counted from the study's defects4j-bugs.json; all 395 patches / the 137 of
#         one or two lines): wrong variable reference 10.6% / 16.8%, logic expression expanded
#         12.2% / 15.3%, initialization fixed 11.1% / 13.9%, copy/paste 12.2% / 6.6%, missing null
#         check 14.4% / 8.0%, arithmetic expression changed 8.1% / 8.8%, wraps with a method call
#         3.5% / 5.8%, unwraps from a method call 1.5% / 2.2%, conditional block with return added
#         19.5% / 0.7%, swapped call arguments 0.3%.
#  [PAN]  Pan, Kim & Whitehead 2009, "Toward an understanding of bug fix patterns" (7 Java
#         projects): a call with different actual parameters (MC-DAP) 14.9-25.5% of fix hunks, an
#         if condition changed (IF-CC) 5.6-18.6%, an assignment expression changed (AS-CE) 6.0-14.2%.
# Not used: the per-pattern shares of Campos & Maia 2017, BugsInPy (Widyasari et al. 2020) and
# PyPIBugs (Allamanis et al. 2021), which could not be checked here.
#
# The new families' priors follow one rule, anchored where the two Python-relevant small-fix
# figures agree: a wrong variable is 16-17% of small fixes (TSSB, D4J small) and has prior 0.6;
# a family's prior is 0.6 + 0.1 * log2(share / 16%), i.e. 0.5 at 8%, 0.4 at 4%, 0.3 at 2%,
# averaging the studies that measure it. The classic operator and bound templates keep their
# older, higher priors: SStuB mining puts a changed operator at only 2-3.5% of fixes, but the
# bugs a failing test exposes are boundary-heavy; lowering them is measured separately.
PRIORS: dict[str, float] = {
    "compare_swap": 1.0, "bound_off_by_one": 0.85, "constant_off_by_one": 0.8, "slice_bounds": 0.85,
    "index_off_by_one": 0.7, "bool_swap": 0.8, "arith_swap": 0.75, "negate_condition": 0.75,
    "remove_condition": 0.5, "wrong_variable": 0.6, "swap_arguments": 0.55, "swap_operands": 0.5,
    "missing_return": 0.6, "misplaced_return": 0.5, "wrong_constant": 0.6, "delete_statement": 0.35,
    "insert_statement": 0.3, "method_call": 0.55, "wrong_default": 0.5, "unary_remove": 0.5,
    "wrong_attribute": 0.55,
    # rarer kinds of bug, and assignments are everywhere: tried after the others at the same line
    "assign_update": 0.3, "break_continue": 0.45,
    # issue 15's families, by the rule above:
    # Add Function Around Expression + Add Method Call 12.3% [TSSB] -> 0.56; wraps-with method 5.8% [D4J small] -> 0.45
    "wrap_call": 0.5,
    # unwraps-from method call 2.2% of small patches [D4J] -> 0.31
    "unwrap_call": 0.3,
    # More + Less Specific If 6.2% [TSSB] -> 0.46, 8.1% [MSS] -> 0.5; logic expression expanded 15.3% [D4J small] -> 0.59
    "add_guard": 0.5,
    # a conditional block with return: 19.5% of Defects4J patches, but in 1 of its 137 small ones -> 0.3
    "guard_return": 0.3,
    # Add Elements To Iterable + Change Constant Type 4.4% [TSSB] -> 0.41; initialization fixed 13.9% [D4J small] -> 0.58
    "literal_shape": 0.45,
    # an if condition changed, 5.6-18.6% [PAN]; operator and constant both: a part of it, ~4% -> 0.4
    "compare_constant": 0.4,
    # arithmetic changed in an argument: arithmetic expression changed 8.8% [D4J small] -> 0.51, within MC-DAP [PAN]
    "argument_off_by_one": 0.45,
    # no study isolates these: placed as 2% families (a part of Change Binary Operand / MC-DAP and
    # of Change Boolean Literal + Change Identifier Used respectively)
    "slice_argument": 0.3, "literal_to_name": 0.3,
}


# node types several templates look at
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
_BRANCHES = (ast.If, ast.While, ast.IfExp)

# template name -> (node types, function)
TEMPLATES: dict[str, tuple[tuple[type, ...], Callable]] = {
    "compare_swap": ((ast.Compare, ast.BoolOp), t_compare_swap),
    "arith_swap": ((ast.BinOp, ast.AugAssign), t_arith_swap),
    "bool_swap": ((ast.BoolOp,), t_bool_swap),
    "negate_condition": ((*_BRANCHES, ast.Assert), t_negate_condition),
    "remove_condition": ((ast.BoolOp, ast.If), t_remove_condition),
    "constant_off_by_one": ((ast.Constant,), t_constant_off_by_one),
    "bound_off_by_one": ((ast.Compare, ast.Call), t_bound_off_by_one),
    "index_off_by_one": ((ast.Subscript,), t_index_off_by_one),
    "slice_bounds": ((ast.Subscript,), t_slice_bounds),
    "wrong_variable": ((ast.Name,), t_wrong_variable),
    "wrong_attribute": ((ast.Attribute,), t_wrong_attribute),
    "swap_arguments": ((ast.Call, ast.Subscript), t_swap_arguments),
    "swap_operands": ((ast.BinOp, ast.Compare), t_swap_operands),
    "missing_return": (_FUNCTIONS, t_missing_return),
    "misplaced_return": ((ast.For, ast.While), t_misplaced_return),
    "wrong_constant": ((ast.Constant,), t_wrong_constant),
    "delete_statement": ((ast.stmt,), t_delete_statement),
    "insert_statement": ((ast.stmt,), t_insert_statement),
    "method_call": ((ast.Call,), t_method_call),
    "wrong_default": (_FUNCTIONS, t_wrong_default),
    "unary_remove": ((ast.UnaryOp,), t_unary_remove),
    "assign_update": ((ast.Assign, ast.AugAssign), t_assign_update),
    "break_continue": ((ast.Break, ast.Continue), t_break_continue),
    # issue 15's fix patterns (after the classic templates: an edit both offer keeps its old name)
    "argument_off_by_one": ((ast.Call,), t_argument_off_by_one),
    "compare_constant": ((ast.Compare,), t_compare_constant),
    "add_guard": (_BRANCHES, t_add_guard),
    "guard_return": ((ast.stmt,), t_guard_return),
    "wrap_call": ((ast.Name, ast.Attribute, ast.Subscript), t_wrap_call),
    "unwrap_call": ((ast.Call,), t_unwrap_call),
    "literal_shape": ((ast.Constant, ast.List, ast.Tuple, ast.Set, ast.Dict, ast.Call), t_literal_shape),
    "literal_to_name": ((ast.Constant,), t_literal_to_name),
    "slice_argument": ((ast.Name,), t_slice_argument),
}


def spread_prior(template: str, variants: int) -> float:
    """The template's prior shared among the variants it offers at one line (every other variable
    in scope, say), so that one template with many variants does not crowd out the others."""
    return PRIORS.get(template, 0.3) / (1 + 0.15 * (variants - 1))


def variant_counts(cands: list[Candidate]) -> dict[tuple[str, int, str], int]:
    """(file, line, template) -> how many of the candidates it offers there."""
    out: dict[tuple[str, int, str], int] = {}
    for c in cands:
        out[(c.file, c.line, c.template)] = out.get((c.file, c.line, c.template), 0) + 1
    return out


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    out = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            out[child] = node
    return out


def parses(source: str) -> bool:
    try:
        ast.parse(source)
    except (SyntaxError, ValueError):
        return False
    return True


def generate(path: str, source: str, lines: list[int], templates: list[str] | None = None,
             check: bool = True) -> list[Candidate]:
    """All distinct candidates for the given lines of one file, in (line, template) order.

    check=True drops candidates that do not parse; callers that will try only a few of many
    candidates pass False and call `parses` on the ones they use (parsing is the cost here).
    The function-scoped templates (missing_return, wrong_default, misplaced_return) are tried
    once per function even when several of its lines are suspicious.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    ctx = Context(Source(source), tree, _parents(tree))
    names = templates or list(TEMPLATES)
    out: list[Candidate] = []
    seen: set[str] = {source}
    by_line: dict[int, list[ast.AST]] = {}
    wanted = set(lines)
    for n in ast.walk(tree):
        if not hasattr(n, "lineno"):
            continue
        span = range(n.lineno, n.end_lineno + 1) if isinstance(
            n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.For, ast.While)) else (n.lineno,)
        for ln in span:
            if ln in wanted:
                by_line.setdefault(ln, []).append(n)
    done_scoped: set[tuple[str, int]] = set()
    for line in lines:
        at_line = by_line.get(line, [])
        for name in names:
            types, fn = TEMPLATES[name]
            for node in at_line:
                if not isinstance(node, types):
                    continue
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.For, ast.While)) and name in (
                        "missing_return", "wrong_default", "misplaced_return"):
                    if (name, id(node)) in done_scoped:
                        continue
                    done_scoped.add((name, id(node)))
                try:
                    edits = [ed for ed in fn(node, ctx) if ed]
                except (AttributeError, IndexError, ValueError, UnicodeDecodeError):
                    continue  # an odd shape of source this template does not handle
                fn_node = ctx.function_of(node) if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) else node
                for edit in edits:
                    s, e, new = edit[:3]
                    weight = edit[3] if len(edit) > 3 else 1.0
                    context = edit[4] if len(edit) > 4 else ctx.src.line_text(bisect.bisect_right(ctx.src.line_starts, s)).strip()
                    new_source = ctx.src.replace(s, e, new)
                    if new_source in seen:
                        continue
                    seen.add(new_source)
                    if check and not parses(new_source):
                        continue
                    before, after = ctx.src.get(s, e), new
                    out.append(Candidate(file=path, line=line, template=name, before=before, after=after,
                                         new_source=new_source, function=getattr(fn_node, "name", "") or "",
                                         weight=weight, context=context))
    return out
