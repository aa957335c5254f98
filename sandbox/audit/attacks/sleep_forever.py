# attack: sleep_forever
# category: timeout
# kind: timeout
# check: reason:timeout
# describe: sleep past the wall-clock limit
import time
time.sleep(3600)
