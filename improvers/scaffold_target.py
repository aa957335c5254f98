"""The part of ouro's repair scaffolding that ouro may rewrite: how the built-in policy orders
its repair candidates.

`ouro improve scaffold` proposes rewrites of this file, scores each on a training split of
repos/, and replaces it only when a rewrite also holds on a held-out split (see
improvers/scaffold.py). The repair agent loads it through
`improvers.scaffold.load_ranker()`, which wraps `rank` as the built-in policy's ranker
(agent.policies.builtin.BuiltinPolicy(ranker=...)).

The rules for a rewrite (checked before it is ever loaded): define rank(candidates, context);
plain Python with no imports other than math; no dunder attributes, no exec/eval/open.
`candidates` are agent.templates.Candidate objects (file, line, template, before, after,
function); `context` (agent.policies.base.RankContext) has the issue text (context.issue), the
target tests (context.target_tests) and the files (context.base_files, context.node_files).
Return one score in [0, 1] per candidate; higher is tried first (multiplied by how suspicious
the line is).

As shipped, it reproduces the built-in policy's own heuristic (template priors, spread over
variants) exactly.
"""

# How likely each repair template is to be the fix, before looking at the code.
TEMPLATE_WEIGHTS = {
    "compare_swap": 1.0, "bound_off_by_one": 0.85, "constant_off_by_one": 0.8, "slice_bounds": 0.85,
    "index_off_by_one": 0.7, "bool_swap": 0.8, "arith_swap": 0.75, "negate_condition": 0.75,
    "remove_condition": 0.5, "wrong_variable": 0.6, "swap_arguments": 0.55, "swap_operands": 0.5,
    "missing_return": 0.6, "misplaced_return": 0.5, "wrong_constant": 0.6, "delete_statement": 0.35,
    "insert_statement": 0.3, "method_call": 0.55, "wrong_default": 0.5, "unary_remove": 0.5,
    "wrong_attribute": 0.55, "assign_update": 0.3, "break_continue": 0.45,
    "wrap_call": 0.5, "unwrap_call": 0.3, "add_guard": 0.5, "guard_return": 0.3, "literal_shape": 0.45,
    "compare_constant": 0.4, "argument_off_by_one": 0.45, "slice_argument": 0.3, "literal_to_name": 0.3,
}
DEFAULT_WEIGHT = 0.3
# A template offering many variants at one line (every other variable in scope) spreads its
# weight over them instead of crowding out the other templates.
VARIANT_SPREAD = 0.15
# Small edits are more often right than large ones; 0 turns the preference off.
SMALL_EDIT_BONUS = 0.0


def rank(candidates, context):
    variants = {}
    for c in candidates:
        variants[(c.file, c.line, c.template)] = variants.get((c.file, c.line, c.template), 0) + 1
    scores = []
    for c in candidates:
        w = TEMPLATE_WEIGHTS.get(c.template, DEFAULT_WEIGHT)
        w = w / (1 + VARIANT_SPREAD * (variants[(c.file, c.line, c.template)] - 1))
        size = len(c.before) + len(c.after)
        w = w * (1.0 - SMALL_EDIT_BONUS) + SMALL_EDIT_BONUS / (1.0 + size / 20.0)
        scores.append(min(1.0, max(0.0, w)))
    return scores
