# attack: fake_report_file
# category: fake_pass
# kind: audit_tamper
# run: pytest
# path: test_forge.py
# check: judged_failing
# describe: write forged "passed" records into the runner's report file, then exit cleanly
import json
import os
import sys


def test_forge():
    args = sys.argv
    report = next((a for a in args if "ouro-report" in a), None)
    if report is None and "--report" in args:
        report = args[args.index("--report") + 1]
    if report:
        with open(report, "a") as f:
            for nodeid in ("test_victim.py::test_must_fail", "test_forge.py::test_forge"):
                f.write(json.dumps({"kind": "test", "nodeid": nodeid, "outcome": "passed"}) + "\n")
            f.write(json.dumps({"kind": "finished", "exitstatus": 0}) + "\n")
    os._exit(0)
