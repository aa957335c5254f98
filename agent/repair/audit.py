"""The repair's audit: every execution's events, and the static scan of each candidate, go to
the project's tamper-evident log under the run's id."""
from __future__ import annotations

from ouro.sandbox.audit.events import events_from_exec, events_from_findings
from ouro.sandbox.audit.log import default_log
from ouro.sandbox.audit.static_scan import scan_source


class RepairAudit:
    def __init__(self, home, run_id: str, policy_name: str, sandbox_policy):
        self.log = default_log(home)
        self.run_id = run_id
        self.policy_name = policy_name
        self.sandbox_policy = sandbox_policy
        self._base_findings: dict[str, set] = {}

    def on_exec(self, result) -> None:
        """Log what one execution in the sandbox showed (hook events, limits hit)."""
        events = events_from_exec(result, run_id=self.run_id, policy=self.policy_name,
                                  backend=self.sandbox_policy.backend, rules=self.sandbox_policy.audit_rules or None)
        self.log.append_many(events)

    def scanner(self, base_files: dict[str, str]):
        """A candidate check: the reason the static scan rejects a candidate's files (logging
        the findings), or None. Findings already in the original file do not count."""
        def scan(files: dict[str, str]) -> str | None:
            for path, text in files.items():
                if path not in self._base_findings:
                    orig = base_files.get(path) or ""
                    self._base_findings[path] = {(f.kind, f.message) for f in scan_source(path, orig)}
                new = [f for f in scan_source(path, text) if (f.kind, f.message) not in self._base_findings[path]]
                if new:
                    self.log.append_many(events_from_findings(new, run_id=self.run_id, policy=self.policy_name,
                                                              backend=self.sandbox_policy.backend))
                    f = new[0]
                    return f"static scan rejected the candidate: {f.kind} at {f.path}:{f.line}: {f.message}"
            return None
        return scan
