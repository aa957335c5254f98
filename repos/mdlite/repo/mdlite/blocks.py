"""Split a document into blocks: headings, paragraphs, lists and fenced code."""
import re
from dataclasses import dataclass, field

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_BULLET = re.compile(r"^\s*[-*+]\s+(.*)$")
_NUMBERED = re.compile(r"^\s*\d+[.)]\s+(.*)$")


@dataclass
class Block:
    kind: str            # "heading", "paragraph", "list", "code"
    text: str = ""
    level: int = 0       # heading level
    ordered: bool = False
    items: list = field(default_factory=list)
    lang: str = ""


def _list_pattern(line):
    if _BULLET.match(line):
        return _BULLET, False
    if _NUMBERED.match(line):
        return _NUMBERED, True
    return None, False


def collect_items(lines, pattern):
    """Items of the list starting at lines[0]; returns (items, number of lines used).

    A line indented under an item continues it.
    """
    items = []
    used = 0
    for line in lines:
        match = pattern.match(line)
        if match:
            items.append(match.group(1).strip())
        elif line.startswith(("  ", "\t")) and line.strip() and items:
            items[-1] += " " + line.strip()
        else:
            break
        used += 1
        return items, used


def parse_blocks(text):
    lines = text.expandtabs(4).splitlines()
    blocks = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        if line.startswith("```"):
            lang = line[3:].strip()
            end = i + 1
            while end < len(lines) and not lines[end].startswith("```"):
                end += 1
            blocks.append(Block("code", "\n".join(lines[i + 1:end]), lang=lang))
            i = end + 1
            continue
        heading = _HEADING.match(line)
        if heading:
            blocks.append(Block("heading", heading.group(2), level=len(heading.group(1))))
            i += 1
            continue
        pattern, ordered = _list_pattern(line)
        if pattern is not None:
            items, used = collect_items(lines[i:], pattern)
            blocks.append(Block("list", ordered=ordered, items=items))
            i += used
            continue
        start = i
        while (i < len(lines) and lines[i].strip() and not lines[i].startswith("```")
               and not _HEADING.match(lines[i]) and _list_pattern(lines[i])[0] is None):
            i += 1
        blocks.append(Block("paragraph", " ".join(l.strip() for l in lines[start:i])))
    return blocks
