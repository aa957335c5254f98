"""`ouro improve scaffold` end to end on small repositories written for these tests
(tests/fixtures/scaffold_tasks): real repairs in bwrap judged on hidden tests, the improver in a
sandbox, the gate on the test split, the report, and a run killed part-way that resumes."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ouro.improvers.scaffold import TARGET, load_scaffold
from ouro.improvers.judged import compare, load_split
from ouro.improvers.scaffold_improve import NO_RULE_HELD, ScaffoldRun, ScaffoldRunConfig
from ouro.sandbox.core.executor import make_executor

ROOT = Path(__file__).resolve().parents[2]
TASKS = ROOT / "tests" / "fixtures" / "scaffold_tasks"


def _config(tmp_path: Path, **scaffold) -> Path:
    body = {"name": "t", "iterations": 1, "budget": 20, "utility_budget": 3, "resamples": 1000, **scaffold}
    lines = ["[scaffold]"] + [f"{k} = {json.dumps(v)}" for k, v in body.items()]
    lines += ["[[split]]", f"file = {json.dumps(str(TASKS / 'split.json'))}",
              "[model]", 'kind = "mutation"', "max_calls = 2", "[sandbox]", 'backend = "bwrap"', "memory_mb = 256"]
    path = tmp_path / "scaffold.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_the_split_is_read_from_either_shape_and_a_task_belongs_to_one_split(tmp_path):
    from ouro.improvers.judged import SplitSource
    from ouro.sandbox.core.errors import BadInput

    lists = load_split([SplitSource(str(TASKS / "split.json"))])
    by_id = tmp_path / "by_id.json"   # the shape of bench/bugsinpy_split.json
    by_id.write_text(json.dumps({"split": {"evens": "train", "largest": "train", "lastitem": "validation",
                                           "countdown": "test"}}))
    mapped = load_split([SplitSource(str(by_id), root=str(TASKS))])
    assert {k: [t.id for t in v] for k, v in lists.items()} == {k: [t.id for t in v] for k, v in mapped.items()} == \
        {"train": ["evens", "largest"], "validation": ["lastitem"], "test": ["countdown"]}
    limited = load_split([SplitSource(str(by_id), root=str(TASKS), limit={"train": 1})])
    assert len(limited["train"]) == 1 and limited["test"] == mapped["test"]
    by_id.write_text(json.dumps({"split": {"evens": "train", "largest": "test"}}))
    with pytest.raises(BadInput, match="no validation task"):
        load_split([SplitSource(str(by_id), root=str(TASKS))])
    with pytest.raises(BadInput, match="is in train and train"):
        load_split([SplitSource(str(TASKS / "split.json")), SplitSource(str(TASKS / "split.json"))])


def test_compare_reports_each_agent_and_the_paired_difference_with_intervals():
    seed = [{"fixed": f, "plausible": f, "to_first": 5} for f in (True, False, False, True)]
    final = [{"fixed": True, "plausible": True, "to_first": 2}] * 4
    t = compare(seed, final, budget=20, resamples=2000, seed=0)
    assert t["n"] == 4 and t["fix_rate"]["seed"]["mean"] == 0.5 and t["fix_rate"]["final"]["mean"] == 1.0
    assert t["candidates"]["seed"]["mean"] == (5 + 20 + 20 + 5) / 4     # no plausible patch counts the budget
    d = t["utility"]["difference"]
    assert d["mean"] > 0 and d["ci"][0] <= d["mean"] <= d["ci"][1]
    assert t["fix_rate"]["difference"]["ci"][0] == 0.0                 # 2 of 4 improved: the interval reaches 0
    same = compare(seed, seed, budget=20, resamples=2000, seed=0)
    assert same["utility"]["difference"] == {"mean": 0.0, "ci": [0.0, 0.0]}


# An improver (it runs in a sandbox like any) that turns every template back on, and keeps it
# only if the host's utility says it is better.
ENABLER = '''
def improve_algorithm(initial_solution, utility, language_model):
    better = initial_solution.replace(": False", ": True")
    return better if utility(better) > utility(initial_solution) else initial_solution
'''


@pytest.mark.slow
@pytest.mark.bwrap
@pytest.mark.usefixtures("bwrap_ready")
def test_a_rewrite_whose_gain_holds_on_the_test_split_is_installed_with_its_table_and_diff(tmp_path):
    """The seed scaffold has one template on (deleting a statement fixes none of these bugs); the
    improver's rewrite turns the rest back on. Train, validation and test all improve, the test
    gain's interval is above zero, and only then is the file in use replaced."""
    target = tmp_path / "scaffold_target.py"
    src = TARGET.read_text()
    on = load_scaffold().templates["on"]
    for name in on:
        if name != "delete_statement":
            src = src.replace(f'"{name}": True', f'"{name}": False')
    target.write_text(src)
    assert load_scaffold(target).template_settings().enabled == ("delete_statement",)
    (tmp_path / "enabler.py").write_text(ENABLER)
    config = ScaffoldRunConfig.load(_config(tmp_path, improver="enabler.py"))
    from ouro.sandbox.core.home import OuroHome

    ex = make_executor(workers=0)
    try:
        summary = ScaffoldRun(config, tmp_path / "run", ex, home=OuroHome(tmp_path / "home").ensure(),
                              target=target).run()
    finally:
        ex.close()
    final = json.loads((tmp_path / "run" / "final.json").read_text())
    assert final["final"] == "v1.1" and final["holds"] and summary["installed"] == str(target)
    t = final["table"]
    for split in ("train", "validation", "test"):
        assert t[split]["fix_rate"]["seed"]["mean"] == 0.0 and t[split]["fix_rate"]["final"]["mean"] == 1.0
    assert t["test"]["utility"]["difference"]["ci"][0] > 0
    assert target.read_text() == src.replace(": False", ": True")
    assert (tmp_path / "run" / "previous_scaffold_target.py").read_text() == src
    table = (tmp_path / "run" / "report" / "table.md").read_text()
    assert "| test | 1 | fix rate | 0.000 [0.000, 0.000] | 1.000 [1.000, 1.000] |" in table
    assert "installed: v1.1" in table
    versions = (tmp_path / "run" / "report" / "versions.md").read_text()
    assert '-        "compare_swap": False' in versions and '+        "compare_swap": True' in versions
    assert (tmp_path / "run" / "report" / "utility.png").stat().st_size > 10_000


def _ouro(*args, home: Path) -> list[str]:
    return [sys.executable, "-m", "ouro.agent.cli", "--home", str(home), *args]


@pytest.mark.slow
@pytest.mark.bwrap
@pytest.mark.usefixtures("bwrap_ready")
def test_a_killed_run_resumes_where_it_stopped_and_ends_with_the_table(tmp_path):
    """Must show 1 (resume): SIGKILL part-way through iteration 1, then --resume. Repairs done
    before the kill are read back, not redone; the improver asks for the same versions again; the
    run ends with the seed-vs-final table and a verdict. Nothing is installed over the real file
    unless a rewrite held."""
    target = tmp_path / "scaffold_target.py"
    target.write_text(TARGET.read_text())
    config, home = _config(tmp_path, iterations=2), tmp_path / "home"
    run_dir = home / "runs" / "t"
    args = ("improve", "scaffold", str(config), "--workers", "0", "--target", str(target))
    proc = subprocess.Popen(_ouro(*args, home=home), cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 600
    seed_repairs: set[str] = set()
    while time.monotonic() < deadline and proc.poll() is None:
        state = run_dir / "state.json"
        if state.exists() and not seed_repairs:
            seed_repairs = {p.name for p in (run_dir / "repairs").iterdir()}
        if seed_repairs and len(list((run_dir / "repairs").iterdir())) > len(seed_repairs):
            break   # iteration 1 has repaired at least one task with a rewrite
        time.sleep(0.2)
    assert proc.poll() is None, proc.communicate()[1][-2000:]
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done = {p.name: p.stat().st_mtime_ns for p in (run_dir / "repairs").iterdir()}
    shas_before = [json.loads(line)["sha"] for line in (run_dir / "archive.jsonl").read_text().splitlines() if line.strip()]
    assert json.loads((run_dir / "state.json").read_text())["iteration_done"] == 0

    r = subprocess.run(_ouro(*args, "--resume", home=home), cwd=ROOT, capture_output=True, text=True, timeout=900)
    installed = "installed:" in r.stdout
    assert r.returncode == (0 if installed else 1), r.stderr[-2000:]
    assert "resuming after iteration 0" in r.stderr
    assert all((run_dir / "repairs" / n).stat().st_mtime_ns == t for n, t in done.items())   # not redone
    archive = [json.loads(line) for line in (run_dir / "archive.jsonl").read_text().splitlines() if line.strip()]
    assert [a["sha"] for a in archive][:len(shas_before)] == shas_before   # the same versions, asked again
    assert [a["iteration"] for a in archive][-1] == 2
    assert "| test | 1 | fix rate |" in r.stdout and (NO_RULE_HELD in r.stdout or installed)
    assert (target.read_text() == TARGET.read_text()) != installed
    rep = subprocess.run(_ouro("improve", "report", "t", "--diffs", home=home), cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert rep.returncode == 0 and "## v1.1" in rep.stdout and "```diff" in rep.stdout


@pytest.mark.slow
@pytest.mark.bwrap
def test_a_litellm_model_proposes_the_rewrites_when_one_is_configured(tmp_path, bwrap_ready):
    """The improver's model is any litellm model (here the replay server): its first reply retunes
    the search, its second runs a shell command from rank(), its third has a rank() that raises.
    The first is scored by real repairs; the second never gets past the vetting, and its finding
    is in the audit log; the third runs in its sandbox and breaks every repair it is tried on."""
    pytest.importorskip("litellm")
    from ouro.agent.llm.replay import ReplayServer
    from ouro.sandbox.audit.log import default_log
    from ouro.sandbox.core.home import OuroHome

    shipped = TARGET.read_text()
    retuned = shipped.replace('"exploration": 0.15', '"exploration": 0.3')
    hostile = shipped.replace("def rank(candidates, context):\n",
                              "def rank(candidates, context):\n    __import__('os').system('id')\n")
    fence = "`" * 3
    broken = shipped.replace("        size = len(c.before) + len(c.after)\n", "")   # rank then raises NameError
    script = [{"content": f"Explore more.\n{fence}python\n{retuned}{fence}\n"},
              {"content": f"Look around.\n{fence}python\n{hostile}{fence}\n"},
              {"content": f"Simpler.\n{fence}python\n{broken}{fence}\n"}]
    target = tmp_path / "scaffold_target.py"
    target.write_text(shipped)
    with ReplayServer(script) as server:
        path = _config(tmp_path)
        text = path.read_text().replace('kind = "mutation"', f'kind = "litellm"\nmodel = "openai/replay"\n'
                                                             f'api_base = "{server.base_url}"')
        text = text.replace("max_calls = 2", "max_calls = 3").replace("utility_budget = 3", "utility_budget = 4")
        path.write_text(text)
        home = OuroHome(tmp_path / "home").ensure()
        ex = make_executor(workers=0)
        try:
            ScaffoldRun(ScaffoldRunConfig.load(path), tmp_path / "run", ex, home=home, target=target).run()
        finally:
            ex.close()
    archive = {r["id"]: r for r in map(json.loads, (tmp_path / "run" / "archive.jsonl").read_text().splitlines())}
    assert archive["v1.1"]["status"] == "ok" and '+    "exploration": 0.3' in archive["v1.1"]["diff"]
    assert archive["v1.1"]["train"]["fix_rate"] == 1.0
    assert archive["v1.2"]["status"] == "rejected" and archive["v1.2"]["train"] is None
    assert any("__import__" in p for p in archive["v1.2"]["problems"])
    assert archive["v1.3"]["status"] == "broken" and archive["v1.3"]["train"]["utility"] == 0.0   # ran, and raised
    assert all("NameError" in r["error"] for r in archive["v1.3"]["train"]["rows"])
    logged = [r for r in default_log(home).records() if r.get("source") == "static"]
    assert any("scaffold@v1.2" in r["detail"] for r in logged)
