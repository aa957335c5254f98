# attack: conftest_rewrite_restore
# class: 4
# category: cross_candidate
# kind: test_tamper
# run: pytest
# path: conftest.py
# check: judged_failing
# describe: a conftest rewrites the failing test so it passes before collection and puts the original back when the session ends
import os

_VICTIM = os.path.join(os.path.dirname(os.path.abspath(__file__)), "test_victim.py")
with open(_VICTIM) as _f:
    _ORIGINAL = _f.read()
with open(_VICTIM, "w") as _f:
    _f.write("def test_must_fail():\n    assert 1 == 1\n")


def pytest_unconfigure(config):
    with open(_VICTIM, "w") as f:
        f.write(_ORIGINAL)
