# attack: forge_flood_channel
# class: 3
# category: forged_record
# kind: secret_read
# check: host_counts
# describe: flood the channel with forged harmless events so the host's per-execution cap drops the real ones that follow
import json
import os

for i in range(2500):
    os.write(2, b'\x1eOURO-AUDIT {"kind": "proc_access", "event": "open", "detail": "open(\'/proc/%d/stat\')", "pid": 7, "action": "log"}\n' % i)
T = json.load(open("target.json"))
try:
    open(T["canary_path"]).read()
except OSError:
    pass
