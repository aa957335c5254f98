# attack: memory_bytearray
# category: memory_bomb
# kind: oom
# check: reason:oom
# describe: allocate and touch memory until the limit
hog = []
while True:
    hog.append(bytearray(16 << 20))
