# attack: append_host_audit_log
# category: audit_tamper
# kind: audit_tamper
# check: log_intact
# describe: append a forged record to the host's audit log and read its key
import json
T = json.load(open("target.json"))

try:
    with open(T["audit_log"], "a") as f:
        f.write('{"seq": 1, "kind": "exec", "mac": "00"}\n')
except OSError as e:
    print(e)
try:
    print(open(T["audit_key"]).read())
except OSError as e:
    print(e)
