# attack: output_stdout_flood
# category: endless_output
# kind: output_cap
# check: reason:output_cap
# describe: print forever
while True:
    print("A" * 1000)
