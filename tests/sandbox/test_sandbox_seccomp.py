"""Issue 13, class 6: network none means none. In a real sandbox of each backend, every socket
family but AF_UNIX/AF_INET/AF_INET6 is refused (gVisor: its own netlink, served by its sentry,
is the one exception, and no family reaches the host kernel there)."""
from __future__ import annotations

import json
import socket

import pytest

from ouro.sandbox import seccomp
from test_warm_pool import _open

# the ordinary things still work: a socket pair of each everyday family
PAIR_PROBE = r"""
import json, socket
pair = []
for family in (socket.AF_UNIX, socket.AF_INET):
    try:
        a, b = socket.socketpair(family)
        pair.append(family)
    except OSError:
        pass
print(json.dumps(pair))
"""
ALLOWED = {socket.AF_UNIX, socket.AF_INET, socket.AF_INET6}


@pytest.mark.parametrize("backend", ["bwrap", pytest.param("docker", marks=pytest.mark.docker),
                                     pytest.param("gvisor", marks=[pytest.mark.gvisor, pytest.mark.slow])])
def test_every_family_but_unix_and_inet_is_refused(tmp_path, backend):
    (tmp_path / "pair.py").write_text(PAIR_PROBE)
    sb = _open(backend, tmp_path)
    try:
        # ouro's own family probe, from the guest folder the backend mounts (the self-test runs it too)
        families = sb.exec([getattr(sb, "python", "python3"), f"{sb.guest_dir}/family_probe.py"], timeout=60)
        pair = sb.exec([getattr(sb, "python", "python3"), "pair.py"], timeout=60)
    finally:
        sb.close()
    opened = json.loads(families.stdout.strip().splitlines()[-1].removeprefix("OURO-FAMILIES "))
    allowed = ALLOWED | ({socket.AF_NETLINK} if backend == "gvisor" else set())
    assert set(opened) <= allowed and {1, 2} <= set(opened), families.stdout
    assert socket.AF_UNIX in json.loads(pair.stdout.strip().splitlines()[-1]), pair.stdout


def test_bwrap_program_is_well_formed():
    prog = seccomp.bwrap_program("x86_64")
    assert len(prog) % 8 == 0 and len(prog) // 8 < 4096
    # every jump stays inside the program
    n = len(prog) // 8
    for i in range(n):
        code, jt, jf, _k = __import__("struct").unpack_from("=HBBI", prog, 8 * i)
        if code & 0x07 == 0x05:  # BPF_JMP
            assert i + 1 + max(jt, jf) < n
    assert seccomp.bwrap_program("aarch64") != prog
    with pytest.raises(OSError):
        seccomp.bwrap_program("sparc")


def test_tighten_keeps_dockers_rules_and_narrows_socket():
    base = {"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"],
            "syscalls": [{"names": ["read", "socket", "socketpair", "write"], "action": "SCMP_ACT_ALLOW"},
                         {"names": ["socket"], "action": "SCMP_ACT_ALLOW",
                          "args": [{"index": 0, "value": 40, "op": "SCMP_CMP_NE"}]},
                         {"names": ["clone"], "action": "SCMP_ACT_ALLOW",
                          "args": [{"index": 0, "value": 2114060288, "op": "SCMP_CMP_MASKED_EQ"}]}]}
    out = seccomp.tighten(base)
    allow = [r for r in out["syscalls"] if "socket" in r["names"]]
    assert {r["args"][0]["value"] for r in allow} == {1, 2, 10} and all(r["args"][0]["op"] == "SCMP_CMP_EQ" for r in allow)
    assert out["syscalls"][0]["names"] == ["read", "write"] and out["syscalls"][1]["names"] == ["clone"]
    deny = seccomp.tighten({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": []})
    refused = {r["args"][0]["value"] for r in deny["syscalls"] if r["args"][0]["op"] == "SCMP_CMP_EQ"}
    assert 40 in refused and 16 in refused and not refused & {1, 2, 10}
