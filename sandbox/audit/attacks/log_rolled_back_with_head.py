# attack: log_rolled_back_with_head
# class: 8
# category: log_evidence
# kind: audit_tamper
# run: scenario
# check: verify_fails
# describe: put back an older prefix of the log together with the head that was signed for it, erasing every record since
import json
import shutil
import sys

P = json.load(open(sys.argv[1]))
shutil.copyfile(P["old_log"], P["log"])
shutil.copyfile(P["old_head"], P["head"])
