# attack: empty_file_flood
# class: 7
# category: host_read
# kind: disk_limit|oom|timeout
# check: reason:disk_limit, reason@gvisor:disk_limit|oom|timeout
# describe: create empty files until something stops it: they use no blocks, so a byte limit never sees them, but each one is a host inode (bwrap's bound workspace) or kernel memory (a tmpfs); gVisor's tmpfs lives in the sentry's memory, bounded by the memory limit and the wall clock
import os

os.makedirs("flood", exist_ok=True)
i = 0
while True:
    os.close(os.open(f"flood/{i}", os.O_WRONLY | os.O_CREAT, 0o644))
    i += 1
