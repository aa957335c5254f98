"""Self-debugging with explanation chains (Chen et al., "Teaching LLMs to Self-Debug").

Every failed candidate gets an explanation: which test still fails, what it expected against
what it got, what the edit changed, and what that says about the location. The chain of
explanations steers later proposals through `LocationStats`:

- an edit that leaves the failure identical says the location does not influence the test:
  after a few such edits its remaining candidates sink;
- an edit that changes the failure but does not fix it says the location matters and this
  template is wrong: other templates at the same location move up before it is dropped;
- an edit that fixes some of the failing tests (or fixes them but breaks others) is half a
  fix: the search extends that patch with a second edit.

For the built-in policy the chain is mechanical, but every sentence in it is a fact read from
a test run.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

_E_LINE = re.compile(r"^E\s+(.*)$", re.M)
_ASSERT_EQ = re.compile(r"assert (.+?) (==|!=|<=|>=|<|>|is not|is|in|not in) (.+)$")
_UNITTEST_NE = re.compile(r"^(.+?) != (.+)$")
# around unittest's "first != second": "Lists differ: ", a msg= after " : ", "within 7 places (...)"
_UNITTEST_NOISE = re.compile(r"^(?:Lists|Tuples|Sequences|Sets|Dicts) differ:\s*| : .*$| within \d+ places.*$")

OUTCOMES = ("no_effect", "changed_failure", "partial", "regression", "contradicted", "broke", "timeout")


def failure_message(longrepr: str, limit: int = 300) -> str:
    """The gist of a pytest failure: its `E` lines (or the last line), whitespace-collapsed."""
    lines = _E_LINE.findall(longrepr or "")
    if not lines:
        tail = [ln.strip() for ln in (longrepr or "").strip().splitlines() if ln.strip()]
        lines = tail[-1:] if tail else []
    # "where" lines restate the assertion; the first two E lines carry expected and actual
    return " | ".join(" ".join(ln.split()) for ln in lines[:3])[:limit]


def expected_actual(message: str) -> tuple[str, str] | None:
    """("expected", "actual") from `assert actual == expected` style messages."""
    first = message.split(" | ")[0]
    assertion = first.startswith("AssertionError:")
    first = re.sub(r"^AssertionError:\s*", "", first)
    m = _ASSERT_EQ.search(first)
    if not m:
        # unittest: assertEqual(first, second) says "first != second", and first is by habit
        # the value under test
        m = _UNITTEST_NE.search(_UNITTEST_NOISE.sub("", first)) if assertion else None
        return (m.group(2).strip(), m.group(1).strip()) if m else None
    left, op, right = m.groups()
    if op == "==":
        return right.strip(), left.strip()
    return f"{op} {right.strip()}", left.strip()


@dataclass
class Explanation:
    node_id: int
    edit: str                    # what the edit changed (the proposal's description)
    file: str
    line: int
    template: str
    outcome: str                 # one of OUTCOMES
    test: str = ""               # a target test that still fails (or the broken one)
    message: str = ""            # its failure now
    before: str = ""             # its failure before the edit (parent state)
    expected: str = ""
    actual: str = ""
    lesson: str = ""

    def render(self) -> str:
        parts = [f"[{self.node_id}] {self.edit}: {self.outcome.replace('_', ' ')}."]
        if self.test:
            what = f" expected {self.expected}, got {self.actual}" if self.expected else f" {self.message}"
            parts.append(f"{self.test} still fails:{what}.")
        if self.before and self.message and self.before != self.message:
            parts.append(f"Before the edit it failed with: {self.before}.")
        parts.append(self.lesson)
        return " ".join(p for p in parts if p)

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class LocationStats:
    """What the candidates tried at one line taught, by outcome (see Chain.record)."""
    no_effect: int = 0    # the failing tests failed as before
    changed: int = 0      # they failed differently, or the explanation was contradicted
    partial: int = 0      # some failing tests passed (perhaps breaking others)
    templates: dict[str, int] = field(default_factory=dict)   # template -> tries here

    def weight(self, template: str) -> float:
        """How much the chain still believes in trying `template` at this location."""
        w = 1.0
        if self.partial:
            w *= 1.5                           # half a fix was found here
        if self.changed:
            # the location matters: untried templates go first, repeats of a tried one sink
            w *= 1.4 if template not in self.templates else 0.8 ** self.templates[template]
            if self.changed >= 8 and not self.partial:
                w *= 0.5                       # many changes, never a fix: let it go
        elif self.no_effect >= 2:
            w *= 0.4 ** min(3, self.no_effect - 1)    # edits here do not reach the failing test
        return w


class Chain:
    """The explanation chain of one run, plus what it says per location."""

    def __init__(self):
        self.entries: list[Explanation] = []
        self.locations: dict[tuple[str, int], LocationStats] = {}

    def stats(self, file: str, line: int) -> LocationStats:
        return self.locations.get((file, line)) or LocationStats()

    def record(self, e: Explanation) -> None:
        self.entries.append(e)
        st = self.locations.setdefault((e.file, e.line), LocationStats())
        st.templates[e.template] = st.templates.get(e.template, 0) + 1
        if e.outcome == "no_effect":
            st.no_effect += 1
        elif e.outcome in ("partial", "regression"):
            st.partial += 1
        elif e.outcome in ("changed_failure", "contradicted"):
            st.changed += 1

    def render(self, limit: int = 12, before_node: int | None = None, always: set[int] | None = None) -> str:
        """The last `limit` entries (those before node `before_node`, when given: the steps that
        led to a fix, not what was tried after it), plus the entries of the `always` nodes."""
        pool = [e for e in self.entries if before_node is None or e.node_id < before_node]
        keep = {id(e) for e in pool[-limit:]} | {id(e) for e in self.entries if e.node_id in (always or set())}
        shown = [e for e in self.entries if id(e) in keep]
        lines = [f"- {e.render()}" for e in shown]
        if len(self.entries) > len(shown):
            lines.insert(0, f"- ... {len(self.entries) - len(shown)} more entries in trajectory.jsonl")
        return "\n".join(lines)


def explain(node_id: int, proposal_desc: str, file: str, line: int, template: str,
            obs, parent_obs) -> Explanation:
    """The explanation for a candidate that did not pass (obs: its Observation; parent_obs: its parent's)."""
    e = Explanation(node_id=node_id, edit=proposal_desc, file=file, line=line, template=template, outcome="no_effect")
    still = sorted(obs.failing)
    if obs.status == "timeout":
        e.outcome = "timeout"
        e.lesson = "The tests stopped answering: this edit makes the code loop or hang (a loop bound or exit condition), so it is wrong, not the location."
        return e
    if obs.status == "contradicted":
        e.outcome = "contradicted"
        e.test, e.message = next(iter(obs.contradicts.items()), ("", obs.detail))
        e.lesson = ("It makes the failing tests pass without breaking the visible suite, but contradicts what the "
                    "issue or a doctest says the code should do: the location matters, this edit is not the fix.")
        return e
    if obs.status == "broke":
        e.outcome = "broke"
        e.message = obs.detail
        e.lesson = f"The edit breaks the code before the tests run ({obs.detail[:160]}); nothing is learned about the fault."
        return e
    if still:
        e.test = still[0]
        e.message = obs.failing[still[0]]
        e.before = parent_obs.failing.get(still[0], "") if parent_obs else ""
        ea = expected_actual(e.message)
        if ea:
            e.expected, e.actual = ea
    if obs.fixed > (parent_obs.fixed if parent_obs else 0) and obs.status == "regression":
        e.outcome = "regression"
        e.lesson = (f"It makes all {obs.target} originally failing tests pass but breaks {obs.regressions} that passed before: "
                    "the location is right, the edit is too broad; a second edit may restore the broken behaviour.")
    elif obs.fixed > (parent_obs.fixed if parent_obs else 0):
        e.outcome = "partial"
        e.lesson = (f"It fixes {obs.fixed} of {obs.target} failing tests: the fault is at least partly here; "
                    "the rest likely needs a second edit elsewhere, so this patch is extended.")
    elif parent_obs is not None and obs.failing == parent_obs.failing:
        e.outcome = "no_effect"
        if "TestTimeout" in e.message:
            e.lesson = ("The test still runs past its time limit: this edit does not end the loop (its condition, or "
                        "the update that should make it progress, is still wrong).")
        else:
            e.lesson = ("The failure is exactly the same as without the edit: the failing test does not depend on "
                        "this expression, so this location is probably not the fault.")
    else:
        e.outcome = "changed_failure"
        e.lesson = ("The edit changes how the test fails but does not fix it: this location influences the result, "
                    "so other repairs here are tried before it is dropped.")
    return e
