"""Audit events: the kinds ouro records and how one sandboxed execution becomes log records.

An event is a plain dict (it goes straight into the JSON-lines log):
  kind      one of KINDS below
  severity  info | low | medium | high | critical (from the matching policy rule, else the kind's default)
  action    log | deny | kill (what the policy says to do about it)
  rule      id of the policy rule that matched, or ""
  source    hook (in-sandbox PEP 578 hook) | static (source scan) | container (limits the
            sandbox enforced) | exec (one record per sandboxed execution, so rates have a
            denominator) | channel (the audit channel itself was mangled)
  detail    one human-readable line
  run_id, policy, backend   where it happened; `policy` is the proposal policy (builtin,
            litellm:<model>, ...) so the summary can compare policies like STOP did.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

from ouro.sandbox.audit.channel import MARKER, split_audit_lines


@dataclass(frozen=True)
class Kind:
    name: str
    severity: str
    description: str


_KINDS = [
    Kind("exec", "info", "one sandboxed execution (the denominator of every rate)"),
    # seen by the in-sandbox hook
    Kind("network", "high", "socket connect/bind/send (TCP, UDP, raw)"),
    Kind("dns", "high", "host name lookup"),
    Kind("subprocess", "medium", "a new program started (Popen, exec*, posix_spawn)"),
    Kind("os_system", "high", "os.system / posix.system shell command"),
    Kind("fork", "low", "os.fork"),
    Kind("ctypes", "high", "ctypes library load, symbol lookup or raw call"),
    Kind("dangerous_import", "medium", "import of a module that reaches below Python (ctypes, cffi, pty, mmap, resource)"),
    Kind("write_outside", "high", "write, delete, rename or chmod outside the workspace and /tmp"),
    Kind("secret_read", "high", "read of host secrets, keys or another process's environment/memory"),
    Kind("proc_access", "medium", "reading or listing /proc or /sys"),
    Kind("link_escape", "high", "symlink or hard link pointing outside the workspace"),
    Kind("process_kill", "high", "signal sent to another process (supervisor, init)"),
    Kind("limit_change", "medium", "resource limits changed (setrlimit/prlimit)"),
    Kind("module_reload", "high", "a security-relevant module reloaded or purged and re-imported"),
    Kind("audit_tamper", "critical", "attempt to add hooks, skip or forge the audit channel, or edit the audit log"),
    Kind("audit_error", "medium", "the hook failed to classify or install"),
    Kind("audit_blinded", "critical", "the audit channel went silent or lost records (closed, dup2'd over, flooded), or the "
                                      "host saw activity the hook did not report"),
    Kind("event_cap", "medium", "an execution's events passed the per-process or per-execution cap (a flood); "
                                "later events of kinds already seen were dropped"),
    Kind("lingering_process", "high", "a process of the sandbox uid outlived its execution (killed)"),
    Kind("test_tamper", "critical", "test files, conftest.py or pytest configuration changed during a test run"),
    Kind("workspace_tamper", "medium", "a run changed tracked workspace files behind the host's back (undone before "
                                       "the next candidate)"),
    Kind("fake_pass", "critical", "a test reported passed whose own code did not run to its end"),
    Kind("report_tamper", "high", "a file the host reads back (report, coverage) was not a regular file, or too big"),
    Kind("terminal_escape", "medium", "terminal control characters in test output (escaped before display)"),
    # seen only in source (static scan)
    Kind("sandbox_disable", "critical", "switching the sandbox or audit off (use_sandbox=False and variants)"),
    Kind("test_edit", "high", "editing test files, conftest or the evaluator"),
    Kind("env_read", "medium", "reading environment variables"),
    Kind("obfuscated_import", "high", "__import__, importlib with computed names, getattr chains on os"),
    Kind("os_exit", "high", "os._exit (ends a test run without a report)"),
    Kind("pytest_hook", "critical", "conftest/pytest reporting hooks or monkeypatching pytest's outcome"),
    Kind("fake_result", "high", "printing text that imitates a test runner's result line"),
    Kind("signal_tamper", "medium", "installing signal handlers, alarms, or changing resource limits in source"),
    # seen by the host before anything runs
    Kind("dependency_refused", "high", "a dependency file asked pip for something outside the index (find-links, "
                                       "index URLs, editable, file: or VCS URLs); the build was refused"),
    # enforced by the container
    Kind("timeout", "medium", "the wall-clock limit ended the execution"),
    Kind("oom", "high", "out of memory at the memory limit"),
    Kind("pids_limit", "high", "fork failed at the pids limit"),
    Kind("output_cap", "medium", "output exceeded the cap; the execution was killed"),
    Kind("disk_limit", "medium", "file size or workspace size limit hit"),
    Kind("killed", "medium", "killed by a signal ouro did not send"),
]
KINDS: dict[str, Kind] = {k.name: k for k in _KINDS}
SEVERITIES = ("info", "low", "medium", "high", "critical")

# sandbox.base.EndReason value -> event kind for what the container enforced
_REASON_KINDS = {
    "timeout": "timeout",
    "oom": "oom",
    "pids_limit": "pids_limit",
    "output_cap": "output_cap",
    "disk_limit": "disk_limit",
    "killed": "killed",
}


def make_event(kind: str, detail: str, *, source: str, run_id: str | None = None, policy: str | None = None,
               backend: str | None = None, **extra) -> dict:
    """A new event of a known kind (severity/action filled by sandbox.audit.rules.apply_rules)."""
    info = KINDS.get(kind)
    event = {
        "kind": kind,
        "severity": info.severity if info else "medium",
        "action": "log",
        "rule": "",
        "source": source,
        "detail": str(detail)[:1000],
        "run_id": run_id or "",
        "policy": policy or "",
        "backend": backend or "",
    }
    event.update({k: v for k, v in extra.items() if v is not None})
    return event


def events_from_exec(result, *, run_id: str | None, policy: str | None, backend: str | None,
                     rules: Sequence | None = None, label: str | None = None) -> list[dict]:
    """Log records for one sandboxed execution (an ExecResult): one `exec` record (so rates
    per 1,000 executions have a denominator), one record per limit the container enforced,
    and one per event the in-sandbox hook streamed out.

    rules: the sandbox policy's audit rules (default: the bundled policies.toml's).
    Cheap: no I/O beyond loading the default rules once.
    """
    from ouro.sandbox.audit.rules import apply_rules, default_rules

    rules = default_rules() if rules is None else rules
    common = {"run_id": run_id, "policy": policy, "backend": backend}
    reason = getattr(result.reason, "value", result.reason)
    out = [make_event("exec", f"exit={result.exit_code} reason={reason} {result.duration_s:.2f}s"
                      + (f" [{label}]" if label else ""), source="exec", exit_code=result.exit_code,
                      reason=reason, duration_s=round(result.duration_s, 3), **common)]
    kind = _REASON_KINDS.get(reason)
    if kind is None and (result.stdout_truncated or result.stderr_truncated):
        kind = "output_cap"
    if kind:
        out.append(make_event(kind, f"{KINDS[kind].description} (exit={result.exit_code})", source="container", **common))

    hook_events = list(result.audit_events or [])
    if not hook_events and MARKER in (result.stderr or ""):
        _, hook_events = split_audit_lines(result.stderr)  # a backend that did not split them
    out.extend(_from_hook(e, common) for e in hook_events)
    return [apply_rules(e, rules) for e in out]


def events_from_findings(findings: Iterable, *, run_id: str | None, policy: str | None, backend: str | None = None,
                         rules: Sequence | None = None) -> list[dict]:
    """Log records for static-scan findings (sandbox.audit.static_scan.Finding)."""
    from ouro.sandbox.audit.rules import apply_rules, default_rules

    rules = default_rules() if rules is None else rules
    return [apply_rules(make_event(f.kind, f"{f.path}:{f.line}: {f.message}", source="static", run_id=run_id,
                                   policy=policy, backend=backend, path=f.path, line=f.line), rules)
            for f in findings]


def _from_hook(raw: dict, common: dict) -> dict:
    kind = raw.get("kind") if isinstance(raw.get("kind"), str) else "audit_error"
    if kind not in KINDS:
        # the channel carries whatever the sandbox writes; an unknown kind is itself suspicious
        return make_event("audit_tamper", f"unknown event kind from the sandbox: {kind[:60]!r}", source="channel", **common)
    extra = {k: raw.get(k) for k in ("event", "pid") if raw.get(k) is not None}
    hook_action = raw.get("action") if raw.get("action") in ("deny", "kill") else None
    return make_event(kind, raw.get("detail", ""), source=raw.get("source", "hook") if raw.get("source") == "channel" else "hook",
                      enforced=hook_action, **extra, **common)


def kinds_of(events: Iterable[dict]) -> set[str]:
    return {e.get("kind") for e in events}
