# attack: forge_flood_channel
# class: 3
# category: forged_record
# kind: secret_read
# check: host_counts
# describe: flood the channel with forged harmless events so the host's per-execution cap drops the real ones that follow
import json
import os

# short lines: 2100 of them stay under the self-test's 64 KB output cap, and are more than a
# channel parser that keeps the first 2000 events per execution would keep
for i in range(2100):
    os.write(2, b'\x1eOURO-AUDIT {"kind":"fork"}\n')
T = json.load(open("target.json"))
try:
    open(T["canary_path"]).read()
except OSError:
    pass
