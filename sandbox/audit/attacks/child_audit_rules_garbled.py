# attack: child_audit_rules_garbled
# class: 9
# category: policy_bypass
# kind: audit_tamper
# describe: start a child whose OURO_AUDIT_RULES does not parse: a hook that falls back to no rules silently enforces nothing
import os
import subprocess
import sys

child = ("import socket\n"
         "s = socket.socket(socket.AF_UNIX)\n"
         "try: s.connect('/var/run/docker.sock')\n"
         "except OSError as e: print(e)\n")
subprocess.run([sys.executable, "-c", child], env=dict(os.environ, OURO_AUDIT_RULES='[["network", "docker.sock", '))
