# attack: report_fifo
# class: 7
# category: host_read
# kind: report_tamper
# run: pytest
# path: test_fifo.py
# check: judged_failing, no_hang
# describe: replace the runner's report file with a FIFO, so the host's read of it blocks forever
import os
import sys


def test_fifo():
    args = sys.argv
    if "--report" in args:
        report = args[args.index("--report") + 1]
        os.unlink(report)
        os.mkfifo(report)
