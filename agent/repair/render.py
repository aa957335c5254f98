"""What a repair tells its user: explanation.md (the failure, the suspicious lines, the fix and
the chain of failed candidates) and the commit message of `--apply`.

Test output is written by the code under test, so every piece of it is made printable first:
a terminal control sequence (ESC, BEL, an OSC title or hyperlink) in an assertion message
must not reach the user's terminal, a Markdown viewer or a commit message as itself.
"""
from __future__ import annotations

import re

from ouro.agent.selfdebug import expected_actual, failure_message

# C0 controls but tab and newline, DEL, and the C1 block (U+0080-U+009F: 8-bit CSI, OSC...)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """text with every control character but tab and newline shown as an escape (`\\x1b`)."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text or "")


def explanation(run_id: str, issue: str, baseline, loc, chosen, result, chain) -> str:
    out = [f"# ouro repair {run_id}", ""]
    first = (issue or "").strip().splitlines()
    if first:
        out += [f"Issue: {first[0].lstrip('# ').strip()}", ""]
    out.append(f"## Reproduced\n{len(baseline.target)} failing test(s), {len(baseline.passing)} passing:")
    for t in baseline.target[:8]:
        msg = failure_message(baseline.failing[t])
        ea = expected_actual(msg)
        out.append(f"- `{t}`: " + (f"expected {ea[0]}, got {ea[1]}" if ea else msg))
    env = getattr(baseline, "environment", None) or {}
    skipped = getattr(baseline, "skipped_modules", None) or {}
    if env or skipped:
        out.append("\nLeft out (an environment problem, not the bug; never counted as a regression):")
        for t, f in sorted(env.items())[:5]:
            out.append(f"- `{t}`: {f['error']} ({f['reason']})")
        for m, err in sorted(skipped.items())[:5]:
            out.append(f"- `{m}` does not import: {err}")
        hidden = max(0, len(env) - 5) + max(0, len(skipped) - 5)
        if hidden:
            out.append(f"- and {hidden} more")
    out.append("\n## Suspicious locations")
    for s in loc.lines[:5]:
        out.append(f"- {s.file}:{s.line} in {s.function or '<module>'} (score {s.score:.2f}: {', '.join(s.reasons)})")
    if chosen is not None:
        out.append("\n## Fix")
        for e in chosen.edits:
            out.append(f"- {e['description']}")
        obs = chosen.observation
        out.append(f"\nWith this patch the {len(baseline.target)} failing test(s) pass and {obs.tests_passed} visible "
                   f"tests pass in total, with no regression; a fresh re-run of the suite gives the same result. "
                   f"Found after {result.first_plausible_at} validated candidate(s), among {len(result.plausible)} plausible.")
    else:
        out.append(f"\n## No plausible patch\nValidated {result.validated} candidate(s); search stopped: {result.stopped}.")
    out.append(f"\n## Explanation chain ({len(chain.entries)} failed candidates)")
    steps: set[int] = set()
    cur = chosen
    while cur is not None and cur.parent is not None:   # the partial fixes this patch extends
        steps.add(cur.id)
        cur = result.nodes.get(cur.parent)
    out.append(chain.render(before_node=chosen.id if chosen else None, always=steps)
               or "- (none: the first candidates already passed)")
    return printable("\n".join(out) + "\n")


def commit_message(explanation_text: str, chosen) -> str:
    title = "ouro: " + "; ".join(e["description"].split(" at ")[0] for e in chosen.edits)[:60]
    return printable(f"{title}\n\n{explanation_text}")
