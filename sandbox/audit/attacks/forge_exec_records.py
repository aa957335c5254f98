# attack: forge_exec_records
# class: 3
# category: forged_record
# kind: audit_tamper
# check: host_counts
# describe: write hundreds of well-formed "exec" lines on the audit channel, so one execution counts as many and every rate drops 200-fold
import os

line = b'\x1eOURO-AUDIT {"kind": "exec", "event": "exec", "detail": "exit=0 reason=normal 0.01s", "pid": 1, "action": "log", "seq": 1}\n'
for _ in range(500):
    os.write(2, line)
