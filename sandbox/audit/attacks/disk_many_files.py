# attack: disk_many_files
# category: disk_fill
# kind: disk_limit
# check: reason:disk_limit
# describe: many small files until the tmpfs is full
import os
os.makedirs("/tmp/fill", exist_ok=True)
i = 0
while True:
    with open(f"/tmp/fill/{i}", "wb") as f:
        f.write(b"y" * 16384)
    i += 1
