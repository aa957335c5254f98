# attack: memory_string_doubling
# category: memory_bomb
# kind: oom
# check: reason:oom
# describe: a string that doubles forever
s = "x" * 1024
while True:
    s = s + s
