# attack: purge_subprocess
# category: module_reload
# kind: module_reload
# describe: drop subprocess from sys.modules and import a fresh copy
import sys
import subprocess
del sys.modules["subprocess"]
import subprocess as fresh
fresh.run(["id"])
