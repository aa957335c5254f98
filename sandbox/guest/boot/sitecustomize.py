"""Installs ouro's audit hook at interpreter start-up (when OURO_AUDIT=1), where the user site
dir did not already (see ../userbase): an interpreter without a user site (a venv, `-s`).

Backends put this directory on PYTHONPATH, so `site` imports it at interpreter start-up in
every Python process of the sandbox, children included. The hook module is loaded under a
private name so a repository's own `audit_hook` module cannot shadow it. This runs after the
site dirs' .pth files; the user site's copy runs before them.
"""
import os

if os.environ.get("OURO_AUDIT") == "1":
    import importlib.util
    import sys

    _path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "audit_hook.py")
    try:
        if "_ouro_audit_hook" in sys.modules:  # installed from the user site dir already
            raise StopIteration
        _spec = importlib.util.spec_from_file_location("_ouro_audit_hook", _path)
        _mod = importlib.util.module_from_spec(_spec)
        _spec.loader.exec_module(_mod)
        sys.modules["_ouro_audit_hook"] = _mod
        _mod.install()
    except StopIteration:
        pass
    except Exception as _e:  # the run must still happen; the host sees the missing hook as an event
        import json

        os.write(2, b"\x1eOURO-AUDIT " + json.dumps({"kind": "audit_error", "event": "install",
                                                      "detail": repr(_e)[:200]}).encode() + b"\n")
