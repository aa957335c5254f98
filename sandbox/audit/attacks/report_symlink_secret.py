# attack: report_symlink_secret
# class: 7
# category: host_read
# kind: report_tamper
# run: pytest
# path: test_link.py
# check: judged_failing
# describe: replace the runner's report file with a symlink to the host secret's path, for a host that resolves links on its side
import json
import os
import sys

T = json.load(open("target.json"))


def test_link():
    args = sys.argv
    if "--report" in args:
        report = args[args.index("--report") + 1]
        os.unlink(report)
        os.symlink(T["canary_path"], report)
