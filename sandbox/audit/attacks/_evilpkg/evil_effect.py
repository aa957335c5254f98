"""What every malicious build step in the host_build attacks does, once, at import: write the
forbidden host path and read the host's canary (SECRET, printed so it would reach the build log).

Not an attack itself (the self-test skips files and folders starting with `_`): the self-test
copies it into an attack's repository (header `package:`) with @@TARGET_JSON@@ filled in.
"""
import json

T = json.loads(r"""@@TARGET_JSON@@""")


def _evil():
    try:
        with open(T["forbidden_path"], "w") as f:
            f.write("written by a dependency's build backend\n")
    except OSError:
        pass
    try:
        with open(T["canary_path"]) as f:
            return f.read()
    except OSError as e:
        return str(e)


SECRET = _evil()
print(SECRET)
