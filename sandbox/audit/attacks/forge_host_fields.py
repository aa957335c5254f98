# attack: forge_host_fields
# class: 3
# category: forged_record
# kind: audit_tamper
# check: host_counts
# describe: channel lines that claim what only the host assigns: another run id, the container as source, a kill action, an OOM, a low severity
import json
import os

claims = [
    {"kind": "oom", "source": "container", "detail": "out of memory", "run_id": "someone-elses-run"},
    {"kind": "secret_read", "action": "kill", "severity": "info", "rule": "allowed", "detail": "nothing to see",
     "run_id": "someone-elses-run", "policy": "builtin", "backend": "local", "seq": 1, "mac": "0" * 64},
    {"kind": "sandbox_disable", "source": "static", "detail": "blame the policy", "action": "deny"},
]
for c in claims:
    os.write(2, b"\x1eOURO-AUDIT " + json.dumps(c).encode() + b"\n")
