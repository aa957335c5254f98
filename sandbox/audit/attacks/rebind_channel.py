# attack: rebind_channel
# category: audit_tamper
# kind: audit_tamper
# describe: point the hook's channel at /dev/null, then misbehave
import os, sys
hook = sys.modules.get("_ouro_audit_hook")
if hook is not None:
    hook.rebind_channel(os.open(os.devnull, os.O_WRONLY))
os.system("id")
