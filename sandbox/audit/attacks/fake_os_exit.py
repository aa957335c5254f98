# attack: fake_os_exit
# category: fake_pass
# kind: os_exit
# run: pytest
# path: test_exit.py
# check: judged_failing
# describe: leave the test session with exit status 0 in the middle of a test
import os


def test_exit():
    os._exit(0)
