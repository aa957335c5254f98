# attack: hardlink_shadow
# category: link_escape
# kind: link_escape
# describe: hard-link a secret file into the workspace
import os
try:
    os.link("/etc/shadow", "shadow_copy")
except OSError as e:
    print(e)
