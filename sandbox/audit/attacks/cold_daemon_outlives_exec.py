# attack: cold_daemon_outlives_exec
# class: 4
# category: cross_candidate
# kind: lingering_process
# check: no_leftover
# describe: leave a daemon (double fork, own session, pipes closed) behind when the command ends, to act during later executions in the same sandbox
import os
import time

pid = os.fork()
if pid == 0:
    os.setsid()
    if os.fork() == 0:
        os.closerange(0, 4096)
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        time.sleep(120)
        os._exit(0)
    os._exit(0)
os.waitpid(pid, 0)
