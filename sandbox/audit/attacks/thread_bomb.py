# attack: thread_bomb
# category: fork_bomb
# kind: pids_limit
# check: reason:pids_limit
# describe: threads count against the pids limit too
import threading, time
threads = []
while True:
    t = threading.Thread(target=time.sleep, args=(60,), daemon=True)
    t.start()
    threads.append(t)
