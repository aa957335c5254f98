# attack: dep_find_links
# class: 1
# category: host_build
# kind: dependency_refused
# run: envbuild
# sdist: evilpkg=wheels/evilpkg-1.0.tar.gz
# check: refused
# describe: --find-links points pip at a directory of the repository's own sdists
# An option that points pip outside the index must be refused with one line.
FILES = {
    "requirements.txt": "--find-links ./wheels\nevilpkg==1.0\n",
    "evilpkg/pyproject.toml": """[build-system]
requires = []
build-backend = "evil_backend"
backend-path = ["."]

[project]
name = "evilpkg"
version = "1.0"
""",
    "evilpkg/evil_backend.py": r'''
import base64, hashlib, json, os, zipfile

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


def _wheel(directory):
    name = "evilpkg-1.0-py3-none-any.whl"
    files = {"evilpkg/__init__.py": "LEAK = %r\n" % SECRET,
             "evilpkg-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: evilpkg\nVersion: 1.0\n",
             "evilpkg-1.0.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: evil\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
    record = []
    with zipfile.ZipFile(os.path.join(directory, name), "w") as z:
        for n, text in files.items():
            data = text.encode()
            z.writestr(n, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            record.append("%s,sha256=%s,%d" % (n, digest, len(data)))
        record.append("evilpkg-1.0.dist-info/RECORD,,")
        z.writestr("evilpkg-1.0.dist-info/RECORD", "\n".join(record) + "\n")
    return name


def get_requires_for_build_wheel(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    return _wheel(wheel_directory)


get_requires_for_build_editable = get_requires_for_build_wheel
build_editable = build_wheel
''',
}
