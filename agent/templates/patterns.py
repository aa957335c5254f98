"""The fix-pattern families of issue 15: a call wrapped around or removed from an expression,
an added guard or guarded return, the shape of a literal, a literal that should be a name, a
slice of an argument, a comparison's constant (same (node, ctx) -> edits form as classic)."""
from __future__ import annotations

import ast
import re
from typing import Iterator

from ouro.agent.templates.code import (BUILTIN_NAMES, COMPARE_OPS, compute_scope, Context, Edit, imported_names,
                                       int_const, is_reset, numeric_names, parenthesized, scope_names)


# ---------------------------------------------------------------------------------------------
# Fix patterns the bug-fix studies find often and the classic templates miss (issue 15).
# Each is general (nothing here knows a repository), ranks its own variants (what the code
# around it makes likelier first) and offers few of them, since every candidate costs a
# sandbox validation.

def _fn_calls(ctx: Context) -> tuple[dict, dict]:
    """What the module calls, for wrap_call: (function name -> {enclosing function: argument
    texts} for calls of one positional argument, and the module's own functions of one
    parameter; method name -> {enclosing function: receiver texts} for zero-argument method calls
    whose result is used, i.e. that return a value)."""
    if "calls" in ctx.scope_cache:
        return ctx.scope_cache["calls"]
    funcs: dict[str, dict[str, set]] = {}
    methods: dict[str, dict[str, set]] = {}
    for sub in ast.walk(ctx.tree):
        if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef)) and isinstance(ctx.parents.get(sub), ast.Module):
            a = sub.args
            if len(a.posonlyargs) + len(a.args) - len(a.defaults) == 1 and not a.kwonlyargs:
                funcs.setdefault(sub.name, {})
        if not isinstance(sub, ast.Call) or sub.keywords:
            continue
        owner = getattr(ctx.function_of(sub), "name", "")
        if isinstance(sub.func, ast.Name) and len(sub.args) == 1 and not isinstance(sub.args[0], ast.Starred):
            funcs.setdefault(sub.func.id, {}).setdefault(owner, set()).add(ctx.src.seg(sub.args[0]))
        elif isinstance(sub.func, ast.Attribute) and not sub.args and not isinstance(ctx.parents.get(sub), ast.Expr):
            methods.setdefault(sub.func.attr, {}).setdefault(owner, set()).add(ctx.src.seg(sub.func.value))
    ctx.scope_cache["calls"] = (funcs, methods)
    return funcs, methods


def _wrap_weight(uses: dict[str, set], text: str, here: str) -> float:
    """How likely a wrapper is for `text` in function `here`, from where the module uses it."""
    if text in uses.get(here, ()):
        return 1.2    # this very expression, wrapped elsewhere in the same function
    if any(text in texts for texts in uses.values()):
        return 0.8
    root = re.match(r"[A-Za-z_]\w*", text)
    if root and any(re.match(rf"{root.group()}\b", t) for texts in uses.values() for t in texts):
        return 0.7    # applied to the same variable in another form (`w.strip().lower()` for `w`)
    return 0.6 if here in uses else 0.45


def _role_wrappers(node: ast.AST, ctx: Context) -> list[tuple[str, float]]:
    """Builtin conversions that fit what the value is used for: a key looked up or compared with
    text is normalized (`.lower()`, `.strip()`, `str()`, `int()`); a number compared or computed
    with is measured or converted (`len()`, `int()`, `float()`, `abs()`); what a loop walks is
    ordered or copied (`sorted()`, `list()`, `reversed()`)."""
    parent = ctx.parents.get(node)
    if isinstance(parent, ast.Compare):
        ops = parent.ops
        others = [parent.left, *parent.comparators]
        if (any(isinstance(o, (ast.In, ast.NotIn)) for o in ops) and node is parent.left) or any(
                isinstance(x, (ast.Constant, ast.JoinedStr)) and isinstance(getattr(x, "value", ""), str) for x in others):
            return [("{}.lower()", 0.4), ("{}.strip()", 0.35), ("str({})", 0.3), ("int({})", 0.3)]
        if any(isinstance(o, (ast.Lt, ast.LtE, ast.Gt, ast.GtE)) for o in ops):
            return [("len({})", 0.4), ("int({})", 0.35), ("float({})", 0.3), ("abs({})", 0.3)]
    if isinstance(parent, ast.Subscript) and parent.slice is node:
        return [("{}.lower()", 0.35), ("int({})", 0.35), ("str({})", 0.3)]
    if isinstance(parent, (ast.BinOp, ast.AugAssign)) or isinstance(parent, ast.UnaryOp) and isinstance(parent.op, ast.USub):
        return [("len({})", 0.4), ("int({})", 0.35), ("float({})", 0.3), ("abs({})", 0.3)]
    if isinstance(parent, (ast.For, ast.comprehension)) and parent.iter is node:
        return [("sorted({})", 0.4), ("list({})", 0.3), ("reversed({})", 0.3)]
    return [("len({})", 0.35), ("str({})", 0.3), ("int({})", 0.3), ("list({})", 0.3)]


def _wrappable(node: ast.AST, ctx: Context) -> bool:
    """A value read in an expression (not a callee, not the object of `.x` or `[i]`, not a
    target, not a whole expression statement, not inside an f-string)."""
    if not isinstance(node, (ast.Name, ast.Attribute, ast.Subscript)) or not isinstance(
            getattr(node, "ctx", ast.Load()), ast.Load):
        return False
    parent = ctx.parents.get(node)
    if parent is None or isinstance(parent, ast.Expr):
        return False
    if any(isinstance(a, (ast.Raise, ast.Assert, ast.JoinedStr, ast.FormattedValue)) for a in ctx.ancestors(node)):
        return False   # an exception's message, an f-string's pieces: not values the code computes with
    if isinstance(parent, ast.Call) and parent.func is node:
        return False
    if isinstance(parent, (ast.Attribute, ast.Subscript)) and parent.value is node:
        return False
    if isinstance(node, ast.Name) and (node.id in imported_names(ctx) or node.id in BUILTIN_NAMES or node.id in (
            "self", "cls") or node.id in _module_defs(ctx)):
        return False
    return True


def _constructs(node: ast.Call, ctx: Context) -> bool:
    """A call of a class (defined here, or named like one): an object built, not a value converted."""
    f = node.func
    name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
    return name[:1].isupper() or name in _module_classes(ctx)


def _module_classes(ctx: Context) -> set[str]:
    if "classes" not in ctx.scope_cache:
        ctx.scope_cache["classes"] = {n.name for n in ast.walk(ctx.tree) if isinstance(n, ast.ClassDef)}
    return ctx.scope_cache["classes"]


def _module_defs(ctx: Context) -> set[str]:
    if "defs" not in ctx.scope_cache:
        ctx.scope_cache["defs"] = {n.name for n in ast.walk(ctx.tree)
                                   if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    return ctx.scope_cache["defs"]


def t_wrap_call(node: ast.AST, ctx: Context) -> Iterator[Edit]:
    """A value that needed a call around it: `len(items)` for `items`, `int(text)`,
    `word.lower()` for `word` (TSSB-3M: "Add Function Around Expression" 8% and "Add Method
    Call" 4% of Python single-statement bugs). The wrappers are the functions and value-returning
    methods the module itself uses, first those it applies to this very expression elsewhere,
    then those used in the same function, then a few builtins."""
    if not _wrappable(node, ctx):
        return
    text = ctx.src.seg(node)
    if "\n" in text or len(text) > 60:
        return
    funcs, methods = _fn_calls(ctx)
    here = getattr(ctx.function_of(node), "name", "")
    out: dict[str, float] = {}
    for name, uses in funcs.items():
        if name != here and name not in _NEVER_WRAP:
            out[f"{name}({text})"] = _wrap_weight(uses, text, here)
    for name, uses in methods.items():
        out.setdefault(f"{parenthesized(text)}.{name}()", _wrap_weight(uses, text, here))
    role: dict[str, float] = {}
    for pattern, w in _role_wrappers(node, ctx):
        role.setdefault(pattern.format(parenthesized(text) if pattern.startswith("{}") else text), w)
    parent = ctx.parents.get(node)
    if isinstance(parent, ast.Call) and isinstance(parent.func, ast.Name):
        not_nested = lambda k: not k.startswith(parent.func.id + "(")   # not int(int(x))
        out = {k: w for k, w in out.items() if not_nested(k)}
        role = {k: w for k, w in role.items() if not_nested(k)}
    # up to two of the five variants are what the value's use suggests (`key.lower()` for a key
    # compared with text), whatever the module's own functions are: a module with many helpers
    # otherwise crowds them out (luigi's `table in stdout` needed `table.lower()`)
    picked = dict(sorted(out.items(), key=lambda kv: -kv[1])[:3])
    for k, w in sorted(role.items(), key=lambda kv: -kv[1]):
        if len(picked) >= 5 or w < 0.35:   # the strong suggestions only: str()/int() do not push helpers out
            break
        picked.setdefault(k, w)
    for k, w in sorted(out.items(), key=lambda kv: -kv[1]):
        if len(picked) >= 5:
            break
        picked.setdefault(k, w)
    out = picked
    # the same expression again on this line (`x if x > 0 else -x`): weaker variants
    seen = ctx.scope_cache.setdefault(("wrapped", node.lineno), set())
    again = text in seen
    seen.add(text)
    s, e = ctx.src.span(node)
    for new, w in sorted(out.items(), key=lambda kv: -kv[1])[:5]:
        yield (s, e, new, w * (0.7 if again else 1.0))


# calls that do not convert a value (output, introspection, iteration helpers that change its shape)
_NEVER_WRAP = {"print", "isinstance", "type", "id", "hash", "iter", "next", "super", "vars", "dir", "repr",
               "callable", "delattr", "input", "open", "exit", "quit", "setattr", "hasattr", "getattr", "range",
               "enumerate", "zip", "cls", "locals", "globals", "compile", "eval", "exec"}


def t_unwrap_call(node: ast.Call, ctx: Context) -> Iterator[Edit]:
    """A call that should not be there: `len(xs)` where `xs` was meant, `int(x)` that
    truncates, `name.strip()` that loses significant spaces (Defects4J: "unwraps-from method
    call", 1.5% of patches). One variant per call: its argument, or its receiver."""
    parent = ctx.parents.get(node)
    if isinstance(parent, (ast.Expr, ast.Raise)) or node.keywords or _constructs(node, ctx):
        return
    f = node.func
    s, e = ctx.src.span(node)
    if isinstance(f, ast.Name) and len(node.args) == 1 and not isinstance(node.args[0], ast.Starred):
        if f.id == getattr(ctx.function_of(node), "name", None) or f.id in _NEVER_WRAP:
            return
        yield (s, e, parenthesized(ctx.src.seg(node.args[0])) if isinstance(parent, (ast.Attribute, ast.Subscript, ast.BinOp)) else ctx.src.seg(node.args[0]))
    elif isinstance(f, ast.Attribute) and not node.args:
        yield (s, e, ctx.src.seg(f.value))


_BOOLISH = re.compile(r"^(is|has|have|can|should|was|were|found|ok|done|valid|seen|matched|changed|any|all|exists)(_|$)|(_ok|_found|_done|_seen|_valid)$")


def t_literal_to_name(node: ast.Constant, ctx: Context) -> Iterator[Edit]:
    """A constant where a variable or a condition already computed was meant: `return False`
    for `return found`, `return 0` for `return count`, `return True` for `return n > 0`.
    Booleans: the function's boolean variables (assigned True/False, or named like one), then
    the comparisons it makes; numbers: its numeric variables. Only returned values and whole
    call arguments, where a literal most often stands for a result."""
    fn = ctx.function_of(node)
    parent = ctx.parents.get(node)
    if fn is None or not (isinstance(parent, (ast.Return, ast.keyword))
                          or isinstance(parent, ast.Call) and node in parent.args):
        return
    v = node.value
    s, e = ctx.src.span(node)
    if isinstance(v, bool):
        names: dict[str, float] = {}
        for sub in ast.walk(fn):
            if isinstance(sub, ast.Assign) and isinstance(sub.value, ast.Constant) and isinstance(sub.value.value, bool):
                for t in sub.targets:
                    if isinstance(t, ast.Name):
                        names[t.id] = 1.5
        for n in scope_names(ctx, node):
            if _BOOLISH.search(n.lower()):
                names.setdefault(n, 1.2)
        # a flag the function computes but never tests nor returns was computed to be returned
        decides = {x.id for sub in ast.walk(fn) if isinstance(sub, (ast.If, ast.While, ast.IfExp, ast.Return, ast.Assert))
                   for x in ast.walk(sub.test if hasattr(sub, "test") else sub) if isinstance(x, ast.Name)}
        for n, w in names.items():
            yield (s, e, n, w * (2.0 if n not in decides else 1.0))
        if names:
            return
        compares = []
        for sub in ast.walk(fn):
            if isinstance(sub, ast.Compare) and sub.lineno < node.lineno and sub.end_lineno == sub.lineno:
                text = ctx.src.seg(sub)
                if len(text) <= 40:
                    compares.append((node.lineno - sub.lineno, text))
        for _, text in sorted(set(compares))[:3]:   # the nearest before this line
            yield (s, e, text, 0.8)
    elif isinstance(v, (int, float)):
        numeric = numeric_names(ctx, node)
        for n in [x for x in scope_names(ctx, node) if x in numeric][:6]:
            yield (s, e, n, 1.0)


def _logic_operand(ctx: Context, expr: ast.AST, op: str) -> str:
    """expr's text as an operand of `and`/`or`: parenthesized where precedence would regroup it."""
    text = ctx.src.seg(expr)
    if isinstance(expr, (ast.IfExp, ast.Lambda, ast.NamedExpr)) or (
            op == "and" and isinstance(expr, ast.BoolOp) and isinstance(expr.op, ast.Or)):
        return f"({text})"
    return text


def _guard_subjects(ctx: Context, expr: ast.AST) -> list[tuple[str, str]]:
    """(text, kind) of what a condition may need a guard for, in order: objects it indexes
    ("index": `stack` in `stack[-1]`), objects whose attribute it reads ("attr": `node` in
    `node.left`), and the plain variables it reads ("name")."""
    out: dict[str, str] = {}
    for sub in ast.walk(expr):
        if isinstance(sub, ast.Subscript) and isinstance(sub.value, (ast.Name, ast.Attribute)):
            out.setdefault(ctx.src.seg(sub.value), "index")
        elif isinstance(sub, ast.Attribute) and isinstance(sub.value, ast.Name) and sub.value.id not in ("self", "cls"):
            parent = ctx.parents.get(sub)
            if not (isinstance(parent, ast.Call) and parent.func is sub) and sub.value.id not in imported_names(ctx):
                out.setdefault(sub.value.id, "attr")
    for sub in ast.walk(expr):
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Load) and sub.id not in BUILTIN_NAMES and \
                sub.id not in ("self", "cls") and sub.id not in imported_names(ctx) and sub.id not in _module_defs(ctx):
            parent = ctx.parents.get(sub)
            if not (isinstance(parent, ast.Call) and parent.func is sub):
                out.setdefault(sub.id, "name")
    return list(out.items())


def _none_checked(ctx: Context, node: ast.AST) -> set[str]:
    """Names the function compares with None or gives a None default: may be None."""
    fn = ctx.function_of(node) if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) else node
    out: set[str] = set()
    if fn is None:
        return out
    if ("none", id(fn)) in ctx.scope_cache:
        return ctx.scope_cache[("none", id(fn))]
    ctx.scope_cache[("none", id(fn))] = out
    a = fn.args
    positional = [*a.posonlyargs, *a.args]
    for p, d in [*zip(positional[len(positional) - len(a.defaults):], a.defaults), *zip(a.kwonlyargs, a.kw_defaults)]:
        if isinstance(d, ast.Constant) and d.value is None:
            out.add(p.arg)
    for sub in ast.walk(fn):
        if isinstance(sub, ast.Compare) and any(isinstance(c, ast.Constant) and c.value is None for c in sub.comparators):
            out.add(ctx.src.seg(sub.left))
    return out


def t_add_guard(node: ast.AST, ctx: Context) -> Iterator[Edit]:
    """A condition missing a case (ManySStuBs4J: More and Less Specific If, 3.7% and 4.4% of
    single-statement fixes; TSSB-3M 4.7% and 1.5%; Defects4J: missing null checks in 14% of
    patches). A guard that protects an access goes first, where it short-circuits: emptiness
    for what the condition indexes (`if not stack or stack[-1] != c`, `while stack and ...`),
    None for what it reads an attribute of or may be None (`if node is None or node.x`). A
    flag the condition ignores is added at the end (`if ready and strict`, `... or not strict`):
    boolean parameters and variables of the function that the condition does not read."""
    test = node.test
    may_be_none = _none_checked(ctx, node)
    s, e = ctx.src.span(test)
    t_and, t_or = _logic_operand(ctx, test, "and"), _logic_operand(ctx, test, "or")
    # what the condition already checks needs no second check
    checked_none = {ctx.src.seg(c.left) for c in ast.walk(test) if isinstance(c, ast.Compare)
                    and any(isinstance(x, ast.Constant) and x.value is None for x in c.comparators)}
    checked_empty = {ctx.src.seg(x) for x in ast.walk(test) if isinstance(x, (ast.Name, ast.Attribute)) and (
        isinstance(ctx.parents.get(x), (ast.BoolOp, ast.If, ast.While, ast.IfExp))
        or isinstance(ctx.parents.get(x), ast.UnaryOp) and isinstance(ctx.parents[x].op, ast.Not)
        or isinstance(ctx.parents.get(x), ast.Call) and getattr(ctx.parents[x].func, "id", "") == "len")}
    out = []
    read = set()
    for text, kind in _guard_subjects(ctx, test):
        read.add(text)
        if text in checked_none or text in checked_empty:
            continue
        none_w = 1.4 if text in may_be_none else 0.7
        if kind == "index":
            out += [(f"not {text} or {t_or}", 1.3), (f"{text} and {t_and}", 1.3)]
        elif kind == "attr":
            out += [(f"{text} is None or {t_or}", none_w), (f"{text} is not None and {t_and}", none_w),
                    (f"not {text} or {t_or}", 0.6), (f"{text} and {t_and}", 0.6)]
        elif text in may_be_none:
            out += [(f"{text} is None or {t_or}", 1.0), (f"{text} is not None and {t_and}", 1.0)]
    for flag in _flags(ctx, node):
        if flag not in read:
            out += [(f"{t_and} and {flag}", 1.0), (f"{t_or} or not {flag}", 0.8),
                    (f"{t_and} and not {flag}", 0.7), (f"{t_or} or {flag}", 0.7)]
    for new, w in out[:12]:
        yield (s, e, new, w)


def _flags(ctx: Context, node: ast.AST) -> list[str]:
    """The function's boolean variables: parameters with a True/False default, names assigned
    True/False, names that read like a predicate (`is_open`, `found`)."""
    fn = ctx.function_of(node)
    if fn is None:
        return []
    key = ("flags", id(fn))
    if key not in ctx.scope_cache:
        out: dict[str, None] = {}
        a = fn.args
        positional = [*a.posonlyargs, *a.args]
        for p, d in [*zip(positional[len(positional) - len(a.defaults):], a.defaults), *zip(a.kwonlyargs, a.kw_defaults)]:
            if isinstance(d, ast.Constant) and isinstance(d.value, bool):
                out.setdefault(p.arg, None)
        for sub in ast.walk(fn):
            if isinstance(sub, ast.Assign) and isinstance(sub.value, ast.Constant) and isinstance(sub.value.value, bool):
                out.update(dict.fromkeys(t.id for t in sub.targets if isinstance(t, ast.Name)))
        for n in compute_scope(fn):
            if _BOOLISH.search(n.lower()):
                out.setdefault(n, None)
        ctx.scope_cache[key] = list(out)[:4]
    return ctx.scope_cache[key]


def _returned_values(ctx: Context, fn: ast.AST) -> list[str] | None:
    """What fn returns as a plain value (constants, empty containers, names), in order; None
    when it never returns a value."""
    out: dict[str, None] = {}
    any_value = False
    for sub in ast.walk(fn):
        if isinstance(sub, ast.Return) and ctx.function_of(sub) is fn and sub.value is not None:
            any_value = True
            v = sub.value
            if isinstance(v, ast.Constant) or (isinstance(v, (ast.List, ast.Tuple, ast.Dict, ast.Set)) and is_reset(v)):
                out.setdefault(ctx.src.seg(v), None)
    return list(out) if any_value else None


def t_guard_return(node: ast.stmt, ctx: Context) -> Iterator[Edit]:
    """An early exit for a case the code does not handle: `if not items: return 0` before
    `items[0]`, `if node is None: return` before `node.left`, `if not line: continue` in a loop
    (Defects4J: a conditional block with a return added in 19.5% of patches, rarely alone).
    The exit value is one the function already returns."""
    if not isinstance(node, (ast.Assign, ast.AugAssign, ast.Expr, ast.Return, ast.If)):
        return
    fn = ctx.function_of(node)
    if fn is None or node.lineno == fn.lineno:
        return
    subjects = [(t, k) for t, k in _guard_subjects(ctx, node.test if isinstance(node, ast.If) else node)
                if k != "name"][:2]
    if not subjects:
        return
    values = _returned_values(ctx, fn)
    exits = ["return"] if values is None else [f"return {v}" for v in (values[:2] or ["None"])]
    in_loop = any(isinstance(a, (ast.For, ast.While)) for a in ctx.ancestors(node))
    if in_loop:
        exits.append("continue")
    indent = ctx.src.indent_of(node.lineno)
    unit = _indent_unit(ctx, fn)
    at = ctx.src.line_starts[node.lineno - 1]
    may_be_none = _none_checked(ctx, node)
    for text, kind in subjects:
        for cond, w in ((f"not {text}", 1.2 if kind == "index" else 0.8),
                        (f"{text} is None", 1.2 if kind == "attr" or text in may_be_none else 0.5)):
            for i, ex in enumerate(exits):
                yield (at, at, f"{indent}if {cond}:\n{indent}{unit}{ex}\n", w * (1.0 if i == 0 else 0.7))


def _indent_unit(ctx: Context, fn: ast.AST) -> str:
    body = ctx.src.indent_of(fn.body[0].lineno)
    own = ctx.src.indent_of(fn.lineno)
    return body[len(own):] if body.startswith(own) and len(body) > len(own) else "    "


def _appended_to(ctx: Context, node: ast.AST) -> bool:
    """node is the value assigned to a name the function uses as a worklist or accumulator."""
    parent = ctx.parents.get(node)
    if not (isinstance(parent, ast.Assign) and len(parent.targets) == 1 and isinstance(parent.targets[0], ast.Name)):
        return False
    name = parent.targets[0].id
    fn = ctx.function_of(node)
    for sub in ast.walk(fn if fn is not None else ctx.tree):
        if (isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute) and isinstance(sub.func.value, ast.Name)
                and sub.func.value.id == name and sub.func.attr in ("append", "pop", "popleft", "add", "extend", "insert")):
            return True
        if isinstance(sub, ast.While) and any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(sub.test)):
            return True
    return False


def t_literal_shape(node: ast.AST, ctx: Context) -> Iterator[Edit]:
    """A starting value of the wrong shape: `queue = []` for `queue = [start]`, `[x]` for `[]`,
    `''` for None and back, `0.0` for `1.0` (TSSB-3M: "Add Elements To Iterable" 4% and
    "Change Constant Type" 0.4%; Defects4J: an initialization fixed in 11% of patches).
    Singletons are built from the function's parameters, first for a worklist (a name that is
    later popped or appended to)."""
    parent = ctx.parents.get(node)
    if not isinstance(parent, (ast.Assign, ast.Return, ast.AnnAssign, ast.keyword)) and not (
            isinstance(parent, ast.Call) and node in parent.args):
        return
    s, e = ctx.src.span(node)
    if isinstance(node, ast.Constant):
        v = node.value
        if v == "" and isinstance(v, str):
            yield (s, e, "None")
        elif v is None:
            yield (s, e, "''", 0.8)
            if _appended_to(ctx, node):
                yield (s, e, "[]")
        elif isinstance(v, float) and v in (0.0, 1.0):
            yield (s, e, "1.0" if v == 0.0 else "0.0")
        return
    empty = is_reset(node) and not isinstance(node, ast.Constant)
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)) and len(node.elts) == 1 and not isinstance(node.elts[0], ast.Starred):
        yield (s, e, "()" if isinstance(node, ast.Tuple) else "set()" if isinstance(node, ast.Set) else "[]", 0.8)
    elif empty and not isinstance(node, ast.Dict) and not (isinstance(node, ast.Call) and getattr(node.func, "id", "") == "dict"):
        fn = ctx.function_of(node)
        if fn is None:
            return
        a = fn.args
        params = [p.arg for p in [*a.posonlyargs, *a.args, *a.kwonlyargs] if p.arg not in ("self", "cls")]
        w = 1.2 if _appended_to(ctx, node) else 0.5
        maker = ctx.src.seg(node.func) if isinstance(node, ast.Call) else ""
        for p in params[:3]:
            if isinstance(node, ast.Set) or maker == "set":
                one = f"{{{p}}}"
            elif isinstance(node, ast.Tuple) or maker == "tuple":
                one = f"({p},)"
            elif maker in ("", "list"):
                one = f"[{p}]"
            else:
                one = f"{maker}([{p}])"   # deque() -> deque([start])
            yield (s, e, one, w)
        if isinstance(parent, ast.Return):
            yield (s, e, "None", 0.5)


def t_slice_argument(node: ast.Name, ctx: Context) -> Iterator[Edit]:
    """A sequence passed on whole where its rest was meant: `walk(rest)` -> `walk(rest[1:])`, and
    the recursion that never shrinks its input (a RecursionError). Only names the function
    treats as sequences (indexes, slices, measures or iterates them); first in recursive calls."""
    parent = ctx.parents.get(node)
    if not isinstance(node.ctx, ast.Load) or not isinstance(parent, ast.Call) or node not in parent.args:
        return
    fn = ctx.function_of(node)
    if fn is None or not _is_sequence(ctx, fn, node.id):
        return
    callee = parent.func.id if isinstance(parent.func, ast.Name) else parent.func.attr if isinstance(parent.func, ast.Attribute) else ""
    recursive = callee == fn.name
    s, e = ctx.src.span(node)
    yield (s, e, f"{node.id}[1:]", 1.5 if recursive else 0.6)
    yield (s, e, f"{node.id}[:-1]", 1.0 if recursive else 0.4)


def _is_sequence(ctx: Context, fn: ast.AST, name: str) -> bool:
    key = ("sequences", id(fn))
    if key not in ctx.scope_cache:
        seqs: set[str] = set()
        for sub in ast.walk(fn):
            if isinstance(sub, ast.Subscript) and isinstance(sub.value, ast.Name):
                seqs.add(sub.value.id)
            elif isinstance(sub, ast.Call) and getattr(sub.func, "id", "") == "len" and sub.args and isinstance(sub.args[0], ast.Name):
                seqs.add(sub.args[0].id)
            elif isinstance(sub, (ast.For, ast.comprehension)) and isinstance(sub.iter, ast.Name):
                seqs.add(sub.iter.id)
        ctx.scope_cache[key] = seqs
    return name in ctx.scope_cache[key]


def t_compare_constant(node: ast.Compare, ctx: Context) -> Iterator[Edit]:
    """An equality with a constant that should be an order, the constant moved with it:
    `n == 1` -> `n <= 0` or `n <= 1`, `while n != 0` -> `while n > 0`: base cases and stop
    conditions that miss the inputs below them and recurse or loop forever (Pan et al.: an if
    condition changed, IF-CC, in 5.6-18.6% of fixes). When the function counts the compared
    name down (calls itself with `n - 1`, `n -= 1`), the `<=` forms come first; counted up, the
    `>=` forms. Variants that mean the same on integers are offered once (`n < 1` is `n <= 0`)."""
    if len(node.ops) != 1:
        return
    op = COMPARE_OPS.get(type(node.ops[0]))
    right = node.comparators[0]
    neg = isinstance(right, ast.UnaryOp) and isinstance(right.op, ast.USub) and int_const(right.operand)
    if op not in ("==", "!=") or not (int_const(right) or neg):
        return
    c = -right.operand.value if neg else right.value
    if op == "==":
        variants = [("<=", c), ("<=", c - 1), (">=", c), (">=", c + 1)]
    else:
        variants = [(">", c), ("<", c)]
    direction = _counting(ctx, node, ctx.src.seg(node.left))
    s = ctx.src.span(node.left)[1]
    e = ctx.src.span(node)[1]
    gap = ctx.src.get(s, ctx.src.span(right)[0])
    lead = gap[:len(gap) - len(gap.lstrip())]
    for o, k in variants:
        down = o.startswith("<") if op == "==" else o == ">"
        w = 1.0 if direction == 0 else 1.3 if (direction < 0) == down else 0.6
        yield (s, e, f"{lead}{o} {k}", w)


def _counting(ctx: Context, node: ast.AST, text: str) -> int:
    """-1 when the function counts `text` down (recurses on `text - k`, `text -= k`), +1 up, 0 unknown."""
    fn = ctx.function_of(node)
    if fn is None:
        return 0
    for sub in ast.walk(fn):
        arith = None
        if isinstance(sub, ast.Call) and getattr(sub.func, "id", getattr(sub.func, "attr", None)) == fn.name:
            arith = [a for a in sub.args if isinstance(a, ast.BinOp) and ctx.src.seg(a.left) == text]
        elif isinstance(sub, ast.AugAssign) and ctx.src.seg(sub.target) == text:
            return -1 if isinstance(sub.op, ast.Sub) else 1 if isinstance(sub.op, ast.Add) else 0
        if arith:
            return -1 if isinstance(arith[0].op, ast.Sub) else 1 if isinstance(arith[0].op, ast.Add) else 0
    return 0
