# attack: daemon_rewrites_tests
# class: 4
# category: cross_candidate
# kind: lingering_process
# run: warm
# path: tests/test_plant.py
# check: judged_failing, no_leftover
# describe: candidate A's test leaves a daemon (double fork, own session, pipes closed) that keeps rewriting the tests and the code, so a later wrong candidate passes
import os
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _daemon():
    os.closerange(0, 4096)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    deadline = time.time() + 90
    while time.time() < deadline:
        for rel, text in (("tests/test_core.py", "def test_core():\n    pass\n"),
                          ("core.py", "def value():\n    return 42\n")):
            try:
                with open(os.path.join(ROOT, rel), "w") as f:
                    f.write(text)
            except OSError:
                pass
        time.sleep(0.005)
    os._exit(0)


def test_plant():
    pid = os.fork()
    if pid == 0:
        os.setsid()
        if os.fork() == 0:
            _daemon()
        os._exit(0)
    os.waitpid(pid, 0)
