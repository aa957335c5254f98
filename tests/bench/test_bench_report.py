"""HTML report rendering (no browser): self-contained pages, data that cannot inject markup,
and `ouro report` picking the right page for a run dir or a bench dir."""
import json
import re

from ouro.agent.cli import main
from ouro.agent.report.bench_page import render_bench
from ouro.agent.report.run_page import load_run, render_run


def make_run_dir(d):
    d.mkdir()
    (d / "patch.diff").write_text("--- a/m.py\n+++ b/m.py\n@@ -1 +1 @@\n-x = 1\n+x = 2\n")
    (d / "explanation.md").write_text("x must be 2 </script><img src=x onerror=alert(1)>")
    (d / "issue.md").write_text("x is wrong")
    tree = {"final": "2", "nodes": [
        {"id": "0", "parent": None, "value": 0.1, "label": "root"},
        {"id": "1", "parent": "0", "value": 0.0, "label": "x = 3", "diff": "-x = 1\n+x = 3",
         "explanation": "3 is not 2", "test_output": "FAILED t::a"},
        {"id": "2", "parent": "0", "value": 1.0, "label": "x = 2", "diff": "-x = 1\n+x = 2",
         "explanation": "the test expects 2", "test_output": "1 passed"},
    ]}
    (d / "tree.json").write_text(json.dumps(tree))
    return d


def test_run_model_chain_follows_path_to_final_node(tmp_path):
    model = load_run(make_run_dir(tmp_path / "r"))
    assert [n["id"] for n in model["nodes"]] == ["0", "1", "2"]
    assert [s["node"] for s in model["chain"]] == ["2"]
    assert model["nodes"][2]["final"] and not model["nodes"][1]["final"]


def test_run_page_is_self_contained_and_escapes_data(tmp_path):
    html = render_run(make_run_dir(tmp_path / "r"))
    # the only </script> tags are the page's own two blocks: the payload cannot close one
    assert html.count("</script>") == 2
    assert "<img src=x" not in html
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "default-src 'none'" in html


def test_bench_page_table_and_plot(tmp_path):
    tasks = [
        {"task_id": "a", "status": "fixed", "candidates_validated": 9, "candidates_to_first_plausible": 4},
        {"task_id": "b<x>", "status": "not_found", "candidates_validated": 20, "candidates_to_first_plausible": None},
    ]
    (tmp_path / "results.json").write_text(json.dumps({"suite_name": "s", "summary": {"tasks": 2, "fixed": 1},
                                                       "tasks": tasks}))
    html = render_bench(tmp_path)
    assert html.count("<tr data-task=") == 2 and "b&lt;x&gt;" in html
    assert 'id="cands-plot"' in html and html.count('class="bar"') == 1


def test_report_cli_writes_page_and_rejects_unknown(tmp_path, capsys):
    run = make_run_dir(tmp_path / "r")
    out = tmp_path / "out.html"
    assert main(["--home", str(tmp_path / "h"), "report", str(run), "--html", str(out)]) == 0
    assert out.read_text().startswith("<!DOCTYPE html>")
    assert main(["--home", str(tmp_path / "h"), "report", "no-such-run", "--html", str(out)]) == 2
    assert "neither a bench directory" in capsys.readouterr().err
