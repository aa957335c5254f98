# attack: log_emptied_with_head
# class: 8
# category: log_evidence
# kind: audit_tamper
# run: scenario
# check: verify_fails
# describe: delete the log and its head together, so the directory looks like no execution was ever recorded
import json
import os
import sys

P = json.load(open(sys.argv[1]))
for key in ("log", "head"):
    os.unlink(P[key])
