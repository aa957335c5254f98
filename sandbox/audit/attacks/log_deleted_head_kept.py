# attack: log_deleted_head_kept
# class: 8
# category: log_evidence
# kind: audit_tamper
# run: scenario
# check: verify_fails
# describe: delete the audit log but leave its signed head: an absent log must not read as an empty, valid one
# Runs on the host against a scratch copy of an audit directory (an attacker with write access to .ouro/audit).
import json
import os
import sys

P = json.load(open(sys.argv[1]))
os.unlink(P["log"])
