# attack: symlink_dotdot
# category: link_escape
# kind: link_escape
# readback: up/hostname
# describe: a relative symlink climbing out of the workspace
import os
os.symlink("../../../../../../etc", "up")
