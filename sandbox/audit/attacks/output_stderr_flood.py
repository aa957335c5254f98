# attack: output_stderr_flood
# category: endless_output
# kind: output_cap
# check: reason:output_cap
# describe: write stderr forever (the audit channel's own stream)
import sys
while True:
    sys.stderr.write("B" * 1000 + "\n")
