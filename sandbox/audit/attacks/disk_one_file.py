# attack: disk_one_file
# category: disk_fill
# kind: disk_limit
# check: reason:disk_limit
# describe: one file that grows until a limit stops it
chunk = b"x" * (1 << 20)
with open("big.bin", "wb") as f:
    while True:
        f.write(chunk)
        f.flush()
