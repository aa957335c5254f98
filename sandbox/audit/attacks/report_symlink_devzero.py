# attack: report_symlink_devzero
# class: 7
# category: host_read
# kind: report_tamper
# run: pytest
# path: test_zero.py
# check: judged_failing, no_hang, host_memory
# describe: replace the runner's report file with a symlink to /dev/zero, so a host that follows it reads without end
import os
import sys


def test_zero():
    args = sys.argv
    if "--report" in args:
        report = args[args.index("--report") + 1]
        os.unlink(report)
        os.symlink("/dev/zero", report)
