from diffstat import render, split_files, stat

DIFF = """--- a/app.py
+++ b/app.py
@@ -1,3 +1,3 @@
-import os
+import sys
 print("hi")
-x = 1
"""


def test_split_files():
    assert list(split_files(DIFF)) == ["app.py"]
    assert split_files(DIFF)["app.py"][0].startswith("@@")


def test_changed_lines():
    assert stat(DIFF).changed == [("app.py", "import os"), ("app.py", "import sys"), ("app.py", "x = 1")]


def test_counts():
    s = stat(DIFF)
    assert (s.files, s.added, s.removed) == (1, 1, 2)
    assert render(s) == "1 file changed, 1 insertion(+), 2 deletions(-)"
