# attack: term_escape_output
# class: 10
# category: term_escape
# kind: terminal_escape
# run: pytest
# path: test_noisy.py
# check: judged_failing, clean_text
# describe: a failing test that prints escape sequences to stdout and stderr (pytest shows captured output of failures) and raises an exception whose repr holds them
import sys


def test_noisy():
    print("\x1b]8;;http://evil.example\x07click\x1b]8;;\x07\x1b[1A\x1b[2K")
    sys.stderr.write("\x1b]0;owned\x07\r\x1b[K")
    raise ValueError("\x1bP+q544e\x1b\\ \x1b[6n")
