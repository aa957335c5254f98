"""Must show 3 (issue 5): the HTML report of a REAL repair run, opened in headless Chromium.

A builtin-policy repair of the bundled cfgparse task runs in a sandbox, `ouro report` writes
the page, and Chromium (driven through chromedriver by selenium) checks what a reader sees:
the final diff, the explanation chain, the tree; clicking a node shows that candidate's diff;
the console stays free of errors. A screenshot lands in the test's tmp_path.
"""
import json
import shutil
import tempfile
from pathlib import Path

import pytest

REPOS = Path(__file__).resolve().parents[2] / "repos"
CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER), reason="needs Debian's chromium and chromium-driver"),
]


def _backend() -> tuple[str, bool]:
    from ouro.sandbox.bwrap_backend import bwrap_available

    return ("bwrap", False) if shutil.which("bwrap") and not bwrap_available() else ("local", True)


@pytest.fixture(scope="module")
def real_run(tmp_path_factory):
    from ouro.agent.repair import RepairConfig, run_repair
    from ouro.agent.bench.suite import load_suite

    task = next(t for t in load_suite(REPOS).tasks if t.id == "cfgparse")
    tmp = tmp_path_factory.mktemp("run")
    repo = task.materialize(tmp / "repo")
    backend, unsafe = _backend()
    outcome = run_repair(RepairConfig(repo=repo, issue=task.issue, test_cmd=task.test_cmd, policy="builtin",
                                      budget=task.budget or 100, time_limit=300, backend=backend, seed=0,
                                      home=tmp / "home", unsafe_local=unsafe, allow_dirty=True))
    assert outcome.status == "plausible", outcome
    return tmp / "home", outcome


@pytest.fixture
def browser(tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--window-size=1280,1800",
                 f"--user-data-dir={tempfile.mkdtemp(dir=tmp_path, prefix='chrome-profile-')}"):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # an explicit chromedriver path keeps Selenium Manager from trying to download one
    driver = webdriver.Chrome(options=opts, service=Service(executable_path=CHROMEDRIVER))
    yield driver
    driver.quit()


def test_report_of_real_run_in_headless_chromium(real_run, browser, tmp_path):
    from selenium.webdriver.common.by import By

    from ouro.agent.cli import main

    home, outcome = real_run
    page = tmp_path / "report.html"
    assert main(["--home", str(home), "report", outcome.run_id, "--html", str(page)]) == 0
    browser.get(page.as_uri())

    final_diff = browser.find_element(By.ID, "final-diff").text
    assert final_diff.strip() and final_diff.strip() in outcome.patch.strip()
    assert any(line.startswith("+") for line in final_diff.splitlines())

    chain_items = browser.find_elements(By.CSS_SELECTOR, "#chain li")
    explanation = browser.find_element(By.ID, "explanation").text
    assert explanation.strip() and explanation.strip() != "(no explanation)"
    assert chain_items, "the explanation chain is empty"

    tree = json.loads((Path(outcome.run_dir) / "tree.json").read_text())
    circles = browser.find_elements(By.CSS_SELECTOR, "#tree circle")
    assert len(circles) == len(tree["nodes"]) > 1
    assert browser.find_elements(By.CSS_SELECTOR, "#tree line"), "the tree has no edges"
    fills = {c.get_attribute("fill") for c in circles}
    assert len(fills) > 1, "nodes are not coloured by value"

    detail = browser.find_element(By.ID, "node-detail")
    assert "No node selected" in detail.text
    # click the candidate the run chose: its own diff and test output appear in the detail panel
    final = browser.find_element(By.CSS_SELECTOR, "#tree circle.final")
    final.click()
    assert detail.get_attribute("data-node") == final.get_attribute("data-node")
    node_diff = detail.find_element(By.CSS_SELECTOR, ".node-diff").text
    assert node_diff.strip() == outcome.patch.strip()
    assert "status: plausible" in detail.find_element(By.CSS_SELECTOR, ".node-tests").text
    # and a failed candidate: another node, its own edit and failing test
    failed = next(n for n in tree["nodes"] if n["parent"] is not None and (n.get("observation") or {}).get("failing"))
    browser.find_element(By.CSS_SELECTOR, f'#tree circle[data-node="{failed["id"]}"]').click()
    assert detail.get_attribute("data-node") == str(failed["id"])
    assert failed["edits"][-1] in detail.find_element(By.CSS_SELECTOR, ".node-edits").text
    if failed.get("diff"):  # recorded per node when the repair pipeline writes it into tree.json
        assert detail.find_element(By.CSS_SELECTOR, ".node-diff").text.strip() == failed["diff"].strip()
    assert "FAILED" in detail.find_element(By.CSS_SELECTOR, ".node-tests").text

    errors = [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
    assert not errors, errors
    shot = tmp_path / "report.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
