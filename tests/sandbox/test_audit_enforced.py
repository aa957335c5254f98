"""policies.toml's deny rules are enforced by every audited sandbox, not only by the self-test:
a plain exec (what `ouro repair` does) gets OURO_AUDIT_RULES from the backend itself."""
from __future__ import annotations

import socket
import threading

from ouro.sandbox.backends import open_sandbox
from ouro.sandbox.policy import load_policy

CONNECT = """
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    s.connect(sys.argv[1])
    s.sendall(b"GET /containers/json HTTP/1.0\\r\\n\\r\\n")
    print("CONNECTED")
except OSError as e:
    print("REFUSED", type(e).__name__, e)
"""


def _listener(path):
    """A host unix socket named like the Docker daemon's; records whatever reaches it."""
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(str(path))
    srv.listen(1)
    srv.settimeout(0.2)
    got: list[bytes] = []
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(1)
                try:
                    got.append(conn.recv(4096) or b"<connected>")
                except OSError:
                    got.append(b"<connected>")

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    return srv, got, stop, t


def _run(tmp_path, audit: bool):
    sock = tmp_path / "docker.sock"
    srv, got, stop, t = _listener(sock)
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "attack.py").write_text(CONNECT)
    policy = load_policy().with_backend("local").with_limits(wall_time_s=30)
    assert any(r.action == "deny" and r.pattern == "docker.sock" for r in policy.audit_rules)
    try:
        with open_sandbox(policy, "selftest", workspace=ws, unsafe_local=True, audit=audit) as sb:
            res = sb.exec([sb.python, "attack.py", str(sock)], timeout=30, cwd=sb.workspace)
    finally:
        stop.set()
        t.join(2)
        srv.close()
    return res, got


def test_deny_rule_is_enforced_in_a_plain_exec(tmp_path):
    res, got = _run(tmp_path, audit=True)
    assert "REFUSED" in res.stdout, (res.stdout, res.stderr)
    assert got == []
    assert any(e.get("kind") == "network" and "docker.sock" in e.get("detail", "") for e in res.audit_events)


def test_without_audit_the_same_connect_goes_through(tmp_path):
    """The control: the refusal above comes from the rule, not from the test's set-up."""
    res, got = _run(tmp_path, audit=False)
    assert "CONNECTED" in res.stdout, (res.stdout, res.stderr)
