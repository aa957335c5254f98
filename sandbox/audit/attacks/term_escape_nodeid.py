# attack: term_escape_nodeid
# class: 10
# category: term_escape
# kind: terminal_escape
# run: pytest
# path: conftest.py
# check: clean_text
# describe: a test directory whose name holds terminal escapes, so the test's node id itself carries them into every report
import os

_d = os.path.join(os.path.dirname(os.path.abspath(__file__)), "esc\x1b]0;pwned\x07\x1b[8mdir")
os.makedirs(_d, exist_ok=True)
with open(os.path.join(_d, "test_hidden.py"), "w") as _f:
    _f.write("def test_hidden():\n    assert 1 == 2\n")
