# attack: child_audit_rules_reset
# class: 9
# category: policy_bypass
# kind: audit_tamper
# describe: start a child whose OURO_AUDIT_RULES is empty, so its hook enforces no deny/kill rule, and let it talk to the Docker socket
import os
import subprocess
import sys

child = ("import socket\n"
         "for p in ('/var/run/docker.sock', '/run/docker.sock'):\n"
         "    s = socket.socket(socket.AF_UNIX)\n"
         "    try: s.connect(p)\n"
         "    except OSError as e: print(p, e)\n")
subprocess.run([sys.executable, "-c", child], env=dict(os.environ, OURO_AUDIT_RULES="[]"))
