"""Seccomp for the sandboxes: no socket family but AF_UNIX, AF_INET and AF_INET6.

`--network none` (and bwrap's --unshare-net) empties the network namespace, but some address
families do not live in a network namespace at all: AF_VSOCK reaches the host VM's vsock port
space (measured here: `connect((2, port))` from a runc container answers "connection reset by
peer", i.e. the hypervisor side is there), and AF_NETLINK, AF_ALG and friends are kernel attack
surface no test needs. Both backends therefore refuse every family but UNIX/INET/INET6, whose
traffic the empty namespace already stops.

docker (runc): Docker's OWN default profile, tightened. The daemon does not export its default,
so we read it back from a probe container's OCI bundle (`linux.seccomp` in config.json, as the
daemon generated it for a container with every capability dropped), take `socket` and
`socketpair` out of its allow-list and allow them again only for those families. The result is
cached per Docker version under the ouro cache. Where the bundle cannot be read (ouro not
running as root), the profile is DENYLIST_PROFILE: allow by default, refuse the syscalls Docker
documents as refused to an unprivileged container plus the other families; weaker than an
allow-list, and said so by `ouro sandbox doctor` (profile_source()).

gvisor: runsc does not load OCI seccomp filters (without --oci-seccomp); its sentry implements
no AF_VSOCK and serves AF_NETLINK itself, so no host kernel socket is reachable there.

bwrap: a classic BPF program assembled here (bwrap --seccomp FD takes the raw sock_filter
array), for x86_64 and aarch64: the same socket rule, namespace-creating clone flags, clone3
(ENOSYS, so libc falls back to clone), and the syscalls of DENIED. bwrap applies it to the
command only, after setting up its namespaces.
"""
from __future__ import annotations

import contextlib
import json
import os
import platform
import struct
import tempfile
from pathlib import Path

ALLOWED_FAMILIES = (1, 2, 10)  # AF_UNIX, AF_INET, AF_INET6
AF_MAX = 46
EPERM, ENOSYS, EAFNOSUPPORT = 1, 38, 97
# Namespace-creating clone flags: a user namespace gives back every capability inside it.
CLONE_NS_FLAGS = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000 | 0x80

# Refused to the code under test: what Docker's default profile refuses to a container without
# capabilities (docs.docker.com, "Seccomp security profiles for Docker"), plus io_uring, the new
# mount API and ptrace/process_vm_* (same-uid memory access: the warm worker's record key).
DENIED = ("acct", "add_key", "adjtimex", "bpf", "clock_adjtime", "clock_settime", "create_module", "delete_module",
          "fanotify_init", "finit_module", "fsconfig", "fsmount", "fsopen", "fspick", "get_kernel_syms",
          "get_mempolicy", "init_module", "io_uring_enter", "io_uring_register", "io_uring_setup", "ioperm", "iopl",
          "kcmp", "kexec_file_load", "kexec_load", "keyctl", "lookup_dcookie", "mbind", "migrate_pages", "mount",
          "mount_setattr", "move_mount", "move_pages", "name_to_handle_at", "nfsservctl", "open_by_handle_at",
          "open_tree", "perf_event_open", "pidfd_getfd", "pivot_root", "process_vm_readv", "process_vm_writev",
          "ptrace", "query_module", "quotactl", "quotactl_fd", "reboot", "request_key", "set_mempolicy", "setns",
          "settimeofday", "swapoff", "swapon", "_sysctl", "sysfs", "syslog", "umount2", "unshare", "uselib",
          "userfaultfd", "ustat", "vhangup")

# syscall numbers, from the kernel's syscall tables (arch/x86/entry/syscalls/syscall_64.tbl and
# include/uapi/asm-generic/unistd.h); a name missing for an arch does not exist there
_X86_64 = {
    "socket": 41, "socketpair": 53, "clone": 56, "clone3": 435,
    "acct": 163, "add_key": 248, "adjtimex": 159, "bpf": 321, "clock_adjtime": 305, "clock_settime": 227,
    "create_module": 174, "delete_module": 176, "fanotify_init": 300, "finit_module": 313, "fsconfig": 431,
    "fsmount": 432, "fsopen": 430, "fspick": 433, "get_kernel_syms": 177, "get_mempolicy": 239, "init_module": 175,
    "io_uring_enter": 426, "io_uring_register": 427, "io_uring_setup": 425, "ioperm": 173, "iopl": 172, "kcmp": 312,
    "kexec_file_load": 320, "kexec_load": 246, "keyctl": 250, "lookup_dcookie": 212, "mbind": 237,
    "migrate_pages": 256, "mount": 165, "mount_setattr": 442, "move_mount": 429, "move_pages": 279,
    "name_to_handle_at": 303, "nfsservctl": 180, "open_by_handle_at": 304, "open_tree": 428, "perf_event_open": 298,
    "pidfd_getfd": 438, "pivot_root": 155, "process_vm_readv": 310, "process_vm_writev": 311, "ptrace": 101,
    "query_module": 178, "quotactl": 179, "quotactl_fd": 443, "reboot": 169, "request_key": 249,
    "set_mempolicy": 238, "setns": 308, "settimeofday": 164, "swapoff": 168, "swapon": 167, "_sysctl": 156,
    "sysfs": 139, "syslog": 103, "umount2": 166, "unshare": 272, "uselib": 134, "userfaultfd": 323, "ustat": 136,
    "vhangup": 153,
}
_AARCH64 = {
    "socket": 198, "socketpair": 199, "clone": 220, "clone3": 435,
    "acct": 89, "add_key": 217, "adjtimex": 171, "bpf": 280, "clock_adjtime": 266, "clock_settime": 112,
    "delete_module": 106, "fanotify_init": 262, "finit_module": 273, "fsconfig": 431, "fsmount": 432, "fsopen": 430,
    "fspick": 433, "get_mempolicy": 236, "init_module": 105, "io_uring_enter": 426, "io_uring_register": 427,
    "io_uring_setup": 425, "kcmp": 272, "kexec_file_load": 294, "kexec_load": 104, "keyctl": 219,
    "lookup_dcookie": 18, "mbind": 235, "migrate_pages": 238, "mount": 40, "mount_setattr": 442, "move_mount": 429,
    "move_pages": 239, "name_to_handle_at": 264, "nfsservctl": 42, "open_by_handle_at": 265, "open_tree": 428,
    "perf_event_open": 241, "pidfd_getfd": 438, "pivot_root": 41, "process_vm_readv": 270,
    "process_vm_writev": 271, "ptrace": 117, "quotactl": 60, "quotactl_fd": 443, "reboot": 142, "request_key": 218,
    "set_mempolicy": 237, "setns": 268, "settimeofday": 170, "swapoff": 225, "swapon": 224, "syslog": 116,
    "umount2": 39, "unshare": 97, "userfaultfd": 282, "vhangup": 58,
}
_ARCHES = {"x86_64": (0xC000003E, _X86_64), "aarch64": (0xC00000B7, _AARCH64), "arm64": (0xC00000B7, _AARCH64)}

# -- classic BPF ------------------------------------------------------------------------------
_LD_W_ABS, _JEQ_K, _JGE_K, _JSET_K, _RET_K = 0x20, 0x15, 0x35, 0x45, 0x06
_RET_ALLOW = 0x7FFF0000
_RET_ERRNO = 0x00050000
_NR, _ARCH, _ARG0_LO = 0, 4, 16  # offsets in struct seccomp_data (little-endian: arg0's low word first)


def _ins(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k)


def bwrap_program(machine: str | None = None) -> bytes:
    """The raw sock_filter array bwrap --seccomp reads (8 bytes per instruction)."""
    machine = machine or platform.machine()
    if machine not in _ARCHES:
        raise OSError(f"no seccomp filter for the {machine} architecture (x86_64 and aarch64 only)")
    audit_arch, nrs = _ARCHES[machine]
    errno = lambda e: _ins(_RET_K, _RET_ERRNO | e)  # noqa: E731
    prog = [_ins(_LD_W_ABS, _ARCH), _ins(_JEQ_K, audit_arch, 1, 0), errno(EPERM),  # other ABIs: refused
            _ins(_LD_W_ABS, _NR)]
    if machine == "x86_64":
        prog += [_ins(_JGE_K, 0x40000000, 0, 1), errno(EPERM)]  # the x32 ABI's numbers
    family = [_ins(_LD_W_ABS, _ARG0_LO)]
    for i, fam in enumerate(ALLOWED_FAMILIES):
        family.append(_ins(_JEQ_K, fam, len(ALLOWED_FAMILIES) - i, 0))
    family += [errno(EAFNOSUPPORT), _ins(_RET_K, _RET_ALLOW)]
    prog += [_ins(_JEQ_K, nrs["socket"], 0, len(family)), *family]
    pair = [_ins(_LD_W_ABS, _ARG0_LO), _ins(_JEQ_K, 1, 1, 0), errno(EAFNOSUPPORT), _ins(_RET_K, _RET_ALLOW)]
    prog += [_ins(_JEQ_K, nrs["socketpair"], 0, len(pair)), *pair]
    clone = [_ins(_LD_W_ABS, _ARG0_LO), _ins(_JSET_K, CLONE_NS_FLAGS, 0, 1), errno(EPERM), _ins(_RET_K, _RET_ALLOW)]
    prog += [_ins(_JEQ_K, nrs["clone"], 0, len(clone)), *clone]
    prog += [_ins(_JEQ_K, nrs["clone3"], 0, 1), errno(ENOSYS)]
    for name in DENIED:
        if name in nrs:
            prog += [_ins(_JEQ_K, nrs[name], 0, 1), errno(EPERM)]
    prog.append(_ins(_RET_K, _RET_ALLOW))
    return b"".join(prog)


@contextlib.contextmanager
def bwrap_filter():
    """A file descriptor open at the start of the compiled filter, for one bwrap start (bwrap
    reads it to the end, so each start gets its own), closed afterwards."""
    path = _cache_dir() / f"bwrap-{platform.machine()}-{_digest(bwrap_program())}.bpf"
    if not path.exists():
        _write_atomic(path, bwrap_program())
    fd = os.open(path, os.O_RDONLY)
    try:
        yield fd
    finally:
        os.close(fd)


# -- docker --------------------------------------------------------------------------------------
_BUNDLE_DIRS = ("/run/docker/containerd/daemon/io.containerd.runtime.v2.task/moby",
                "/run/containerd/io.containerd.runtime.v2.task/moby",
                "/var/run/docker/containerd/daemon/io.containerd.runtime.v2.task/moby")
_profile_cache: dict[str, str] = {}


def docker_profile(client) -> str:
    """The JSON profile for `--security-opt seccomp=...`: Docker's default, tightened (see above)."""
    try:
        version = str(client.version().get("Version", "unknown"))
    except Exception:
        version = "unknown"
    if version in _profile_cache:
        return _profile_cache[version]
    path = _cache_dir() / f"docker-{version}-v1.json"
    try:
        text = path.read_text()
        json.loads(text)
    except (OSError, ValueError):
        base = _docker_default(client)
        profile = tighten(base) if base else DENYLIST_PROFILE
        text = json.dumps(profile, sort_keys=True)
        if base:  # the fallback is rebuilt from this file each time, never cached as if it were the default
            _write_atomic(path, text.encode())
    _profile_cache[version] = text
    return text


def profile_source(client) -> str:
    """'docker default, tightened' or 'deny-list fallback': which profile the docker backend uses."""
    return "deny-list fallback" if docker_profile(client) == json.dumps(DENYLIST_PROFILE, sort_keys=True) \
        else "docker default, tightened"


def tighten(profile: dict) -> dict:
    """Docker's profile (allow-list, default errno) with socket/socketpair allowed only for
    AF_UNIX/AF_INET/AF_INET6 (socketpair: AF_UNIX); every rule that names them is replaced."""
    out = dict(profile)
    rules = []
    for rule in profile.get("syscalls") or []:
        names = [n for n in rule.get("names", []) if n not in ("socket", "socketpair")]
        if not names:
            continue
        rules.append({**rule, "names": names})
    if str(profile.get("defaultAction", "")).startswith("SCMP_ACT_ALLOW"):
        rules += _deny_families()
    else:
        rules += [{"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": f, "op": "SCMP_CMP_EQ"}]}
                  for f in ALLOWED_FAMILIES]
        rules.append({"names": ["socketpair"], "action": "SCMP_ACT_ALLOW",
                      "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}]})
    out["syscalls"] = rules
    return out


def _deny_families() -> list[dict]:
    refused = [f for f in range(AF_MAX) if f not in ALLOWED_FAMILIES]
    rules = [{"names": ["socket", "socketpair"], "action": "SCMP_ACT_ERRNO", "errnoRet": EAFNOSUPPORT,
              "args": [{"index": 0, "value": f, "op": "SCMP_CMP_EQ"}]} for f in refused]
    rules.append({"names": ["socket", "socketpair"], "action": "SCMP_ACT_ERRNO", "errnoRet": EAFNOSUPPORT,
                  "args": [{"index": 0, "value": AF_MAX, "op": "SCMP_CMP_GE"}]})
    return rules


DENYLIST_PROFILE = {
    "defaultAction": "SCMP_ACT_ALLOW",
    "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"],
    "syscalls": [
        {"names": list(DENIED), "action": "SCMP_ACT_ERRNO", "errnoRet": EPERM},
        {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": ENOSYS},
        *[{"names": ["clone"], "action": "SCMP_ACT_ERRNO", "errnoRet": EPERM,
           "args": [{"index": 0, "value": bit, "valueTwo": bit, "op": "SCMP_CMP_MASKED_EQ"}]}
          for bit in (0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000, 0x80)],
        *_deny_families(),
    ],
}


def _docker_default(client) -> dict | None:
    """Docker's default profile as the daemon generates it for a container with every
    capability dropped, read from a probe container's OCI bundle (needs root to read)."""
    if not any(os.access(d, os.R_OK) for d in _BUNDLE_DIRS if os.path.isdir(d)):
        return None
    from ouro.sandbox.images import BASE_IMAGE

    container = None
    try:
        container = client.containers.run(BASE_IMAGE, ["sleep", "30"], detach=True, network_mode="none",
                                          cap_drop=["ALL"], security_opt=["no-new-privileges"], user="65534:65534",
                                          labels={"ouro.sandbox": "1", "ouro.owner_pid": str(os.getpid()),
                                                  "ouro.purpose": "seccomp-probe"})
        for d in _BUNDLE_DIRS:
            try:
                spec = json.loads((Path(d) / container.id / "config.json").read_text())
            except (OSError, ValueError):
                continue
            seccomp = (spec.get("linux") or {}).get("seccomp")
            if isinstance(seccomp, dict) and seccomp.get("syscalls"):
                return {k: v for k, v in seccomp.items() if k in ("defaultAction", "defaultErrnoRet", "architectures",
                                                                    "syscalls")}
        return None
    except Exception:
        return None
    finally:
        if container is not None:
            try:
                container.remove(force=True)
            except Exception:
                pass


# -- files ---------------------------------------------------------------------------------------
def _cache_dir() -> Path:
    from ouro.sandbox.images import cache_dir

    d = cache_dir() / "seccomp"
    d.mkdir(parents=True, exist_ok=True)
    return d


def _digest(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()[:12]


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
