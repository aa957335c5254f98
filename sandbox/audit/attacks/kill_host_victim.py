# attack: kill_host_victim
# category: kill_supervisor
# kind: process_kill
# describe: kill host processes (a victim and the supervisor) by their host pids
import json
T = json.load(open("target.json"))

import os, signal
for pid in (T["victim_pid"], T["supervisor_pid"]):
    try:
        os.kill(pid, signal.SIGKILL)
        print("killed", pid)
    except OSError as e:
        print(pid, e)
