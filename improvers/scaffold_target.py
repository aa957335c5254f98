"""The part of ouro's repair agent that ouro may rewrite (improvers/scaffold.py has the interface).

`ouro improve scaffold` proposes rewrites of this file, measures each by real repairs judged on
hidden tests, and writes one over it only when its gain holds on a test split it never saw.
`ouro repair --ranker scaffold` repairs with it.

- The upper-case tables are data, read on the host without running this file: they must stay
  literals. SEARCH sets the tree search (agent.search.SearchConfig: exploration constant, depth
  penalty, expansion limits, the value formula's weights), LOCALIZATION how the signals mix
  (agent.localize.LocalizationWeights), TEMPLATES which repair templates are on and their limits
  (agent.policies.builtin.TemplateSettings), PROMPTS replacement prompts for language-model
  policies (name -> text, the same $placeholders as agent/prompts/<name>.md).
- rank(candidates, context) orders the built-in policy's candidates. It runs in a sandbox, in a
  process of its own for the whole repair. `candidates` have .file, .line, .template, .before,
  .after, .function, .weight, .context (the line's text); `context` has .issue, .target_tests,
  .base_files (the original text of the files candidates edit), .node_files (the node's own
  texts of the files its edits changed) and .localization.lines (.file, .line, .score,
  .function). Return one score in [0, 1] per candidate; higher is tried first (multiplied by how
  suspicious the line is). Plain Python: no imports but math, no dunders, no exec/eval/open.

As shipped, every value is ouro's own default and rank() is the built-in heuristic (template
priors spread over variants): repairing with this file is repairing without it, candidate for
candidate (tests/improvers/test_improve_scaffold.py checks both).
"""

SEARCH = {
    "exploration": 0.15, "depth_penalty": 0.1, "max_depth": 3, "max_children": 25, "max_merges": 6,
    "value": {"solved": 0.35, "progress": 0.4, "changed": 0.1, "estimate": 0.1, "regression": 0.5,
              "cap": 0.95, "crowding": 0.02},
}
LOCALIZATION = {
    "spectrum": 1.0, "traceback": 0.6, "traceback_decay": 0.7, "frame_function": 0.25,
    "test_mention": 0.15, "issue_mention": 0.1,
}
TEMPLATES = {
    "on": {
        "compare_swap": True, "arith_swap": True, "bool_swap": True, "negate_condition": True,
        "remove_condition": True, "constant_off_by_one": True, "bound_off_by_one": True,
        "index_off_by_one": True, "slice_bounds": True, "wrong_variable": True, "wrong_attribute": True,
        "swap_arguments": True, "swap_operands": True, "missing_return": True, "misplaced_return": True,
        "wrong_constant": True, "delete_statement": True, "insert_statement": True, "method_call": True,
        "wrong_default": True, "unary_remove": True, "assign_update": True, "break_continue": True,
        "argument_off_by_one": True, "compare_constant": True, "add_guard": True, "guard_return": True,
        "wrap_call": True, "unwrap_call": True, "literal_shape": True, "literal_to_name": True,
        "slice_argument": True,
    },
    "lines_root": 40, "lines_child": 25, "max_variants": 0,
}
PROMPTS = {}

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
