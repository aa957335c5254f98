# attack: python_isolated_child
# category: audit_tamper
# kind: audit_tamper
# describe: start a child interpreter with -I so it skips sitecustomize and the hook
import subprocess, sys
subprocess.run([sys.executable, "-I", "-c", "import os; os.system('id')"])
