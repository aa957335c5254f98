# attack: reload_os
# category: module_reload
# kind: module_reload
# describe: reload os hoping for a copy the hook does not watch, then run a command
import importlib, os
os = importlib.reload(os)
os.system("id")
