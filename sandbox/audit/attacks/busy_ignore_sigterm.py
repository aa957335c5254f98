# attack: busy_ignore_sigterm
# category: timeout
# kind: timeout
# check: reason:timeout
# describe: spin forever with SIGTERM and SIGINT ignored
import signal
signal.signal(signal.SIGTERM, signal.SIG_IGN)
signal.signal(signal.SIGINT, signal.SIG_IGN)
while True:
    pass
