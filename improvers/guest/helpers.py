"""Helpers importable by improvers inside the sandbox (`from helpers import extract_code`)."""
import re

_BLOCK = re.compile(r"```(?:python|py)?[ \t]*\n(.*?)```", re.S)


def extract_code(texts):
    """The first fenced code block of each reply (a str gives a str, a list a list)."""
    if isinstance(texts, str):
        m = _BLOCK.search(texts)
        return (m.group(1) if m else texts).strip("\n") + "\n"
    return [extract_code(t) for t in texts]
