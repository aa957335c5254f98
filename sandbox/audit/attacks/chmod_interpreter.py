# attack: chmod_interpreter
# category: write_outside
# kind: write_outside
# describe: make system files writable
import os
for p in ("/usr/bin/python3", "/etc"):
    try:
        os.chmod(p, 0o777)
    except OSError as e:
        print(p, e)
