from diffstat import render, stat

DIFF = """--- a/a.py
+++ b/a.py
@@ -1,2 +1,3 @@
-old
+new
+newer
 same
--- a/b.py
+++ b/b.py
@@ -5,3 +5,1 @@
-gone
-also gone
 kept
"""


def test_two_files():
    s = stat(DIFF)
    assert (s.files, s.added, s.removed) == (2, 2, 3)
    assert render(s) == "2 files changed, 2 insertions(+), 3 deletions(-)"
    assert len(s.changed) == 5


def test_only_additions():
    s = stat("+++ b/x.py\n@@ -0,0 +1 @@\n+hello\n")
    assert (s.files, s.added, s.removed) == (1, 1, 0)
