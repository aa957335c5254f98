"""The report of one repair run: issue, final diff, explanation chain, search tree, audit, timings.

`load_run(run_dir)` reads what the repair pipeline leaves in its run directory into one plain
dict (the page model); `render_run` embeds that model in a page whose script draws the tree.
The loader is lenient about optional files: a run that died early still gets a page showing
what it had.
"""
from __future__ import annotations

import json
from pathlib import Path

from ouro.sandbox.core.files import read_jsonl
from ouro.agent.report.html import page

_ISSUE_FILES = ("issue.md", "ISSUE.md", "issue.txt")
_META_FILES = ("outcome.json", "result.json", "run.json", "meta.json", "config.json")


def _read(p: Path) -> str | None:
    try:
        return p.read_text(encoding="utf-8", errors="replace")
    except (FileNotFoundError, IsADirectoryError):
        return None


def _first(d: dict, *keys, default=None):
    for k in keys:
        if k in d and d[k] is not None:
            return d[k]
    return default


def _text(v) -> str:
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, (list, tuple)):
        return "\n".join(_text(x) for x in v)
    return json.dumps(v, indent=2, sort_keys=True, default=str)


def _meta(run_dir: Path) -> dict:
    meta: dict = {}
    for name in _META_FILES:
        t = _read(run_dir / name)
        if t:
            try:
                d = json.loads(t)
            except json.JSONDecodeError:
                continue
            if isinstance(d, dict):
                for k, v in d.items():
                    meta.setdefault(k, v)
    return meta


def _flatten_tree(raw) -> list[dict]:
    """tree.json as a flat node list: accepts {"nodes": [...]}, a list, or nested "children"."""
    if isinstance(raw, dict) and isinstance(raw.get("nodes"), list):
        nodes = raw["nodes"]
    elif isinstance(raw, dict) and isinstance(raw.get("nodes"), dict):
        nodes = [{"id": k, **v} for k, v in raw["nodes"].items()]
    elif isinstance(raw, list):
        nodes = raw
    elif isinstance(raw, dict):
        nodes, stack = [], [(raw, None)]
        while stack:
            n, parent = stack.pop()
            nodes.append({**{k: v for k, v in n.items() if k != "children"}, "parent": parent})
            for c in reversed(n.get("children") or []):
                stack.append((c, n.get("id")))
    else:
        nodes = []
    return [n for n in nodes if isinstance(n, dict)]


def _node(n: dict, i: int, final_ids: set) -> dict:
    nid = str(_first(n, "id", "node_id", default=i))
    parent = _first(n, "parent", "parent_id")
    value = _first(n, "value", "q", "score", "reward")
    try:
        value = None if value is None else float(value)
    except (TypeError, ValueError):
        value = None
    visits = _first(n, "visits", "n", "N", default=0)
    status = _first(n, "status", "outcome", "result", default="")
    if not status and isinstance(n.get("observation"), dict):
        status = n["observation"].get("status", "")
    if isinstance(status, dict):
        status = _first(status, "status", "outcome", default="")
    tests = _first(n, "tests", "test_summary", default=None)
    return {
        "id": nid,
        "parent": None if parent in (None, "") else str(parent),
        "label": _text(_first(n, "label", "edit", "description", "action", "operator", "summary", default="")
                       or (n["edits"][-1] if isinstance(n.get("edits"), list) and n["edits"] else "")),
        "value": value,
        "visits": visits if isinstance(visits, (int, float)) else 0,
        "status": _text(status),
        "diff": _text(_first(n, "diff", "patch", "candidate_diff", default="")),
        "test_output": _observation_text(n["observation"]) if isinstance(n.get("observation"), dict)
        else _text(_first(n, "test_output", "output", "observation", "longrepr", "failure", default="")),
        "tests": tests if isinstance(tests, (dict, list)) else _text(tests),
        "explanation": _text(_first(n, "explanation", "explain", "reason", default="")),
        "final": bool(n.get("final") or n.get("chosen") or n.get("selected") or nid in final_ids),
    }


def _merge_trajectory(nodes: list[dict], trajectory: list[dict]) -> list[dict]:
    """Fill node fields from trajectory events (proposal, validation, value, explanation) and
    return the explanation events in order: the run's explanation chain."""
    by_id = {n["id"]: n for n in nodes}
    chain = []
    for r in trajectory:
        kind = _first(r, "event", "type", "kind", default="")
        nid = _first(r, "node", "node_id")
        n = by_id.get(str(nid)) if nid is not None else None
        if kind == "explanation":
            text = _text(_first(r, "text", "explanation", default=""))
            chain.append({"node": str(nid), "label": _text(_first(r, "edit", "description", default="")), "text": text})
            if n is not None and not n["explanation"]:
                n["explanation"] = text
        if n is None:
            continue
        if kind == "proposal" and not n["label"]:
            n["label"] = _text(_first(r, "description", "edit", default=""))
        elif kind == "validation":
            if not n["status"]:
                n["status"] = _text(r.get("status", ""))
            if not n["test_output"]:
                n["test_output"] = _observation_text(r)
        elif kind == "value" and n["value"] is None and isinstance(r.get("value"), (int, float)):
            n["value"] = float(r["value"])
        if not n["diff"]:
            n["diff"] = _text(_first(r, "diff", "patch", default=""))
    return chain


def _observation_text(obs: dict) -> str:
    """A validation's outcome as a person reads it: status, target tests fixed, what still fails."""
    lines = []
    if obs.get("status"):
        lines.append(f"status: {obs['status']}")
    if isinstance(obs.get("target"), int):
        lines.append(f"target tests fixed: {obs.get('fixed', 0)}/{obs['target']}")
    for k in ("tests_passed", "regressions"):
        if obs.get(k):
            lines.append(f"{k.replace('_', ' ')}: {obs[k]}")
    failing = obs.get("failing")
    if isinstance(failing, dict):
        for test, msg in failing.items():
            lines.append(f"FAILED {test}: {msg}")
    if obs.get("detail"):
        lines.append(_text(obs["detail"]))
    return "\n".join(lines)


def _path_chain(nodes: list[dict]) -> list[dict]:
    """Explanations on the path from the root to the final node (or to the best node)."""
    by_id = {n["id"]: n for n in nodes}
    end = next((n for n in nodes if n["final"]), None)
    if end is None:
        valued = [n for n in nodes if n["value"] is not None]
        end = max(valued, key=lambda n: n["value"]) if valued else None
    path, seen = [], set()
    while end is not None and end["id"] not in seen:
        seen.add(end["id"])
        path.append(end)
        end = by_id.get(end["parent"]) if end["parent"] else None
    return [{"node": n["id"], "label": n["label"], "text": n["explanation"]} for n in reversed(path) if n["explanation"]]


def _timings(meta: dict, trajectory: list[dict]) -> list[dict]:
    t = _first(meta, "timings", "phases", default=None)
    if isinstance(t, dict):
        return [{"phase": k, "seconds": float(v)} for k, v in t.items() if isinstance(v, (int, float))]
    if isinstance(t, list):
        return [{"phase": str(_first(x, "phase", "name", default="?")), "seconds": float(_first(x, "seconds", "s", default=0))}
                for x in t if isinstance(x, dict)]
    # otherwise from trajectory records that carry a phase and a duration
    out = []
    for r in trajectory:
        phase = _first(r, "phase", "stage")
        secs = _first(r, "seconds", "duration_s", "elapsed_s")
        if phase and isinstance(secs, (int, float)):
            out.append({"phase": str(phase), "seconds": float(secs)})
    return out


def audit_events_for(run_dir: Path, run_id: str, home_root: Path | None = None) -> list[dict]:
    """The audit log's records for one run (the log lives in the ouro home, not in the run dir)."""
    records = read_jsonl(run_dir / "audit.jsonl")  # a run dir copied elsewhere may carry its own
    if records:
        return records
    root = home_root or (run_dir.parent.parent if run_dir.parent.name == "runs" else None)
    if root is None:
        return []
    from ouro.sandbox.audit.log import default_log
    from ouro.sandbox.core.home import OuroHome

    log = default_log(OuroHome(Path(root)))
    if not log.path.exists():
        return []
    db = log.index()
    try:
        rows = db.execute("SELECT record FROM events WHERE run_id = ? ORDER BY seq", (run_id,)).fetchall()
    finally:
        db.close()
    return [json.loads(r[0]) for r in rows]


def _milestone_timings(trajectory: list[dict]) -> list[dict]:
    """Phase durations from the trajectory's timestamps: each milestone closes the phase before it."""
    phases = {"reproduce": "reproduce", "localize": "localize", "search_end": "search",
              "selection": "discriminate (clean re-runs)", "result": "write result"}
    out, prev = [], None
    for r in trajectory:
        t = r.get("t")
        if not isinstance(t, (int, float)):
            continue
        kind = r.get("kind")
        if prev is None:
            prev = t
        if kind in phases:
            out.append({"phase": phases[kind], "seconds": round(t - prev, 3)})
            prev = t
    return out


def load_run(run_dir: Path, home_root: Path | None = None) -> dict:
    run_dir = Path(run_dir)
    meta = _meta(run_dir)
    trajectory = read_jsonl(run_dir / "trajectory.jsonl")
    tree_text = _read(run_dir / "tree.json")
    try:
        raw_tree = json.loads(tree_text) if tree_text else []
    except json.JSONDecodeError:
        raw_tree = []
    final_ids = set()
    if isinstance(raw_tree, dict):
        for k in ("final", "final_node", "chosen", "selected"):
            if raw_tree.get(k) is not None:
                final_ids.add(str(raw_tree[k]))
    for r in trajectory:  # the discriminator's pick
        if r.get("kind") == "selection" and r.get("chosen") is not None:
            final_ids.add(str(r["chosen"]))
    plausible = {str(i) for i in raw_tree.get("plausible", [])} if isinstance(raw_tree, dict) else set()
    nodes = [_node(n, i, final_ids) for i, n in enumerate(_flatten_tree(raw_tree))]
    for n, raw in zip(nodes, _flatten_tree(raw_tree)):
        n["plausible"] = n["id"] in plausible
        n["edits"] = [_text(e) for e in raw.get("edits", [])] if isinstance(raw.get("edits"), list) else []
    ids = {n["id"] for n in nodes}
    chain = _merge_trajectory(nodes, trajectory)
    for n in nodes:  # a parent that is not in the tree would leave the node floating: make it a root
        if n["parent"] not in ids:
            n["parent"] = None
    issue = next((t for t in (_read(run_dir / f) for f in _ISSUE_FILES) if t), None) or _text(meta.get("issue"))
    if not issue:
        state = _read(run_dir / "state.json")
        try:
            issue = _text(json.loads(state).get("issue")) if state else ""
        except (json.JSONDecodeError, AttributeError):
            issue = ""
    explanation = _read(run_dir / "explanation.md") or _text(meta.get("explanation"))
    diff = _read(run_dir / "patch.diff") or _text(meta.get("patch"))
    for n in nodes:  # the chosen candidate's diff is the final patch, even when the tree omits diffs
        if n["final"] and not n["diff"]:
            n["diff"] = diff
    run_id = str(_first(meta, "run_id", default=run_dir.name))
    audit = audit_events_for(run_dir, run_id, home_root)
    timings = _timings(meta, []) or _milestone_timings(trajectory) or _timings({}, trajectory)
    start = next((r for r in trajectory if r.get("kind") == "start"), {})
    summary = {k: meta[k] for k in ("candidates_validated", "candidates_to_first_plausible", "seconds",
                                    "tokens", "cost") if k in meta}
    summary.update({k: start[k] for k in ("policy", "backend", "seed", "budget") if k in start})
    return {
        "run_id": run_id,
        "status": _text(_first(meta, "status", default="unknown")),
        "summary": summary,
        "issue": issue,
        "diff": diff,
        "explanation": explanation,
        "chain": chain or _path_chain(nodes),
        "nodes": nodes,
        "audit": [{"kind": _text(_first(e, "kind", "event", "type", default="?")),
                   "severity": _text(_first(e, "severity", default="")),
                   "detail": _text(_first(e, "detail", "message", "args", default="")),
                   "time": _text(_first(e, "ts", "time", "timestamp", default=""))} for e in audit],
        "timings": timings,
        "trajectory_len": len(trajectory),
    }


def render_run(run_dir: Path, home_root: Path | None = None) -> str:
    model = load_run(run_dir, home_root)
    return page(f"ouro run {model['run_id']}", body=_RUN_BODY, data=model, script="run.js")


_RUN_BODY = """
<header><h1>ouro repair run <span id="run-id"></span></h1><div id="run-summary" class="summary"></div></header>
<section><h2>Issue</h2><pre id="issue" class="issue"></pre></section>
<section><h2>Final diff</h2><pre id="final-diff" class="diff"></pre></section>
<section><h2>Explanation chain</h2><div id="explanation" class="explanation"></div><ol id="chain"></ol></section>
<section><h2>Search tree</h2>
  <p class="hint">Each node is a candidate patch, coloured by its value (red 0 &rarr; green 1, grey not
  valued); the final patch has a thick ring. Click a node to see its diff and test output.</p>
  <div id="tree-wrap"><svg id="tree"></svg></div>
  <div id="node-detail" class="detail"><p class="hint">No node selected.</p></div>
</section>
<section><h2>Audit events</h2><table id="audit"></table></section>
<section><h2>Timings</h2><table id="timings"></table></section>
"""
