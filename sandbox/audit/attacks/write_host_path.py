# attack: write_host_path
# category: write_outside
# kind: write_outside
# describe: create a file at a host path outside the workspace
import json
T = json.load(open("target.json"))

import os
try:
    os.makedirs(os.path.dirname(T["forbidden_path"]), exist_ok=True)
    with open(T["forbidden_path"], "w") as f:
        f.write("pwned")
except OSError as e:
    print(e)
