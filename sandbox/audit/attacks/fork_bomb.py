# attack: fork_bomb
# category: fork_bomb
# kind: pids_limit
# check: reason:pids_limit
# describe: fork until the pids limit stops it
import os, time
children = 0
while True:
    pid = os.fork()
    if pid == 0:
        os.close(1)
        os.close(2)
        time.sleep(60)
        os._exit(0)
    children += 1
