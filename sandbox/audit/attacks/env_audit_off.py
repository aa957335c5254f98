# attack: env_audit_off
# category: sandbox_disable
# kind: sandbox_disable
# describe: switch the audit off in the environment of a child interpreter
import os, subprocess, sys
os.environ["OURO_AUDIT"] = "0"
subprocess.run([sys.executable, "-c", "import os; os.system('id')"])
