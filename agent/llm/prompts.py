"""Prompts live in agent/prompts/<name>.md, one file per role, so they can be read, diffed and
improved (by people or by the meta-improver) without touching code.

Templates use `$name` placeholders (string.Template): code and JSON in the substituted text
are full of braces, which str.format would trip on.
"""
from __future__ import annotations

from pathlib import Path
from string import Template

PROMPT_DIR = Path(__file__).resolve().parent.parent / "prompts"


def load_prompt(name: str) -> str:
    return (PROMPT_DIR / f"{name}.md").read_text(encoding="utf-8")


def render(name: str, **values: str) -> str:
    """Fill a template; a placeholder without a value is an error (a silent gap in a prompt
    is worse than a crash in a test)."""
    return Template(load_prompt(name)).substitute({k: str(v) for k, v in values.items()})
