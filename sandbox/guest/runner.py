"""In-sandbox pytest runner for cold runs: `python3 /opt/ouro/guest/runner.py --report FILE
[--coverage FILE] [--] PYTEST_ARGS...`, run with the workspace as the current directory.

It runs pytest in-process with recorder.Recorder and writes a JSON-lines report FILE (see
recorder.py for the records). The host reads that file, never the console. A report whose
last record is not {"kind": "finished"} means the session did not end normally (os._exit,
a crash, a kill at the timeout): the host treats the run as incomplete and every test
without a record as failed.

The report file is opened before any test code is imported and written with plain
os.write calls, so code under test that closes or redirects sys.stdout/sys.stderr cannot
lose records; printing something that looks like a record changes nothing.

Test files, conftest.py and pytest's configuration are hashed here before pytest starts, by
the recorder when collection ends, and here again after the session: the `finished` record
lists any that changed (`tamper`), and the host fails the run.

Every record is sealed with a random key made here (recorder.seal). The key's only copy
outside this process's memory is the FIRST line of stdout, `OURO-KEY <hex>`, written before
any test code is imported, so code under test can append to stdout but never replace that
line; lines it writes into the report file fail the host's check (sandbox.testrun).

Exit status: pytest's own (0 all passed, 1 some failed, 2 interrupted, 3 internal error,
4 usage error, 5 no tests collected); 4 also when this runner's own arguments are wrong.
"""
from __future__ import annotations

import json
import os
import sys

KEY_PREFIX = "OURO-KEY "  # sandbox.testrun reads the key from the first stdout line


def load_recorder(here: str):
    """Import recorder.py under a private name: the workspace may have its own `recorder`."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("_ouro_recorder", os.path.join(here, "recorder.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main(argv: list[str]) -> int:
    report = coverage_out = None
    args: list[str] = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--report" and i + 1 < len(argv):
            report, i = argv[i + 1], i + 2
        elif a == "--coverage" and i + 1 < len(argv):
            coverage_out, i = argv[i + 1], i + 2
        elif a == "--":
            args.extend(argv[i + 1:])
            break
        else:
            args.append(a)
            i += 1
    if not report:
        print("runner.py: --report FILE is required", file=sys.stderr)
        return 4

    # Behave like `python -m pytest`: the workspace (cwd) is importable, this dir is not.
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
    sys.path.insert(0, os.getcwd())
    recorder = load_recorder(here)
    sys.dont_write_bytecode = True  # a stale .pyc could hide a candidate's edit

    key = recorder.new_key()
    line = f"{KEY_PREFIX}{key.hex()}\n".encode()
    if os.write(1, line) != len(line):
        print("runner.py: could not announce the report key", file=sys.stderr)
        return 3
    fd = os.open(report, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o600)
    emit = recorder.jsonl_writer(fd, key)
    del key
    emit({"kind": "start", "pid": os.getpid(), "args": args})
    root = os.getcwd()
    # test files, conftest.py and pytest's configuration as they are before any of them runs
    before = recorder.protected_hashes(root)
    cov = recorder.Coverage(root) if coverage_out else None

    import pytest

    rec = recorder.Recorder(emit, root=root, expected=before)
    plugins: list = [rec] + ([cov] if cov else [])
    # cacheprovider would write .pytest_cache into the workspace and reorder with --lf.
    status = int(pytest.main(["-p", "no:cacheprovider", *args], plugins=plugins))
    if cov is not None:
        with open(coverage_out, "w") as f:
            json.dump(cov.result(), f)
    tamper = sorted(set(rec.tamper) | set(recorder.changed_files(before, recorder.protected_hashes(root))))
    emit({"kind": "finished", "exitstatus": status, "reported": rec.reported, "tamper": tamper})
    os.close(fd)
    return status


if __name__ == "__main__":
    sys.stdout.flush()
    code = main(sys.argv[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    # the audit channel's last line for this process (os._exit skips atexit, where it is written)
    hook = sys.modules.get("_ouro_audit_hook")
    if hook is not None:
        hook.finish_channel("exit")
    # os._exit: atexit handlers and threads left behind by code under test cannot change
    # the status or hang the sandbox after the report is final.
    os._exit(code)
