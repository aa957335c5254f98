# attack: os_execv
# category: subprocess
# kind: subprocess
# describe: replace the interpreter with a shell (no Python left to audit)
import os
os.execv("/bin/sh", ["sh", "-c", "id; ls /"])
