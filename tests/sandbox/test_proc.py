"""sandbox.proc: a Ctrl-C that lands while a child is being forked still stops ouro."""
import subprocess
import sys
import textwrap
import time

SCRIPT = textwrap.dedent('''
    import os, signal, sys
    from ouro.sandbox.proc import RLimits, run_capped

    # the worst moment for a Ctrl-C: inside Python's at-fork handlers, in this process
    os.register_at_fork(after_in_parent=lambda: os.kill(os.getpid(), signal.SIGINT))
    try:
        r = run_capped(["sh", "-c", "sleep 1; touch " + sys.argv[1]], timeout=30, output_bytes=4096,
                       rlimits=RLimits(nofile=256))
        print("FINISHED", r.exit_code)
    except KeyboardInterrupt:
        print("INTERRUPTED")
''')


def test_an_interrupt_during_the_fork_is_not_lost_and_the_child_is_killed(tmp_path):
    marker = tmp_path / "child-ran-to-its-end"
    r = subprocess.run([sys.executable, "-c", SCRIPT, str(marker)], capture_output=True, text=True, timeout=60)
    assert r.stdout.strip() == "INTERRUPTED", (r.stdout, r.stderr[-2000:])
    assert "Exception ignored" not in r.stderr
    time.sleep(1.5)
    assert not marker.exists()
