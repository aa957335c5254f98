# attack: add_audit_hook
# category: audit_tamper
# kind: audit_tamper
# describe: add a hook of its own (to flood or mislead the audit)
import sys
sys.addaudithook(lambda event, args: None)
import os
os.system("true")
