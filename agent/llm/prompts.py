"""Prompts live in agent/prompts/<name>.md, one file per role, so they can be read, diffed and
improved (by people or by the meta-improver) without touching code.

Templates use `$name` placeholders (string.Template): code and JSON in the substituted text
are full of braces, which str.format would trip on.

`Prompts` is the set one policy uses: the files, with any of them replaced by a text of its
own (a scaffold rewrite's PROMPTS, `LLMPolicyOptions.prompts`). A replacement must keep the
placeholders of the file it replaces, so every render still fills every gap.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from string import Template

PROMPT_DIR = Path(__file__).resolve().parent.parent / "prompts"


def prompt_names() -> list[str]:
    return sorted(p.stem for p in PROMPT_DIR.glob("*.md"))


def load_prompt(name: str) -> str:
    return (PROMPT_DIR / f"{name}.md").read_text(encoding="utf-8")


def placeholders(text: str) -> set[str]:
    """The $names a template fills."""
    return {m.group("named") or m.group("braced") for m in Template.pattern.finditer(text)
            if m.group("named") or m.group("braced")}


def override_problems(overrides: dict) -> list[str]:
    """Why these replacement prompts cannot be used ([] when they can)."""
    known = prompt_names()
    problems = []
    for name, text in overrides.items():
        if name not in known:
            problems.append(f"prompt {name!r}: no such prompt (known: {', '.join(known)})")
        elif not isinstance(text, str) or not text.strip():
            problems.append(f"prompt {name!r}: must be a non-empty text")
        elif placeholders(text) != placeholders(load_prompt(name)):
            want = ", ".join(f"${p}" for p in sorted(placeholders(load_prompt(name)))) or "none"
            problems.append(f"prompt {name!r}: must use exactly the placeholders of {name}.md ({want})")
    return problems


@dataclass(frozen=True)
class Prompts:
    overrides: dict[str, str] = field(default_factory=dict)   # name -> text replacing agent/prompts/<name>.md

    def load(self, name: str) -> str:
        return self.overrides[name] if name in self.overrides else load_prompt(name)

    def render(self, name: str, **values: str) -> str:
        """Fill a template; a placeholder without a value is an error (a silent gap in a prompt
        is worse than a crash in a test)."""
        return Template(self.load(name)).substitute({k: str(v) for k, v in values.items()})
