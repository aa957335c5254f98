"""An in-tree PEP 517 build backend (pyproject.toml's backend-path) whose import runs the
effect and whose wheel carries the host secret, so a build on the host would leak it twice."""
import base64
import hashlib
import os
import zipfile

from evil_effect import SECRET   # backend-path puts this folder on sys.path


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
