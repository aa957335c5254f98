# attack: same_size_source_edit
# class: 4
# category: cross_candidate
# kind: workspace_tamper
# run: warm
# path: tests/test_sneak.py
# check: judged_failing
# describe: candidate A's test edits core.py in place (same size) and restores its mtime, so a (size, mtime) snapshot keeps the edit for every later candidate
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_sneak():
    path = os.path.join(ROOT, "core.py")
    st = os.stat(path)
    with open(path) as f:
        text = f.read()
    new = text.replace("return 41", "return 42")
    assert len(new) == len(text)
    with open(path, "r+") as f:
        f.write(new)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
