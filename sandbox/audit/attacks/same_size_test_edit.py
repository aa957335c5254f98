# attack: same_size_test_edit
# class: 4
# category: cross_candidate
# kind: test_tamper
# run: warm
# path: tests/test_zz_sneak.py
# check: judged_failing
# describe: candidate A's test turns the protected test's == into != in place (same size) and restores the mtime
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def test_zz_sneak():
    path = os.path.join(HERE, "test_core.py")
    st = os.stat(path)
    with open(path) as f:
        text = f.read()
    new = text.replace("== 42", "!= 42")
    with open(path, "r+") as f:
        f.write(new)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
