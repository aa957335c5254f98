from dataclasses import dataclass, field

from diffstat.parse import split_files


@dataclass
class Stat:
    files: int = 0
    added: int = 0
    removed: int = 0
    changed: list = field(default_factory=list)


def stat(text):
    files = split_files(text)
    added = 0
    removed = 0
    changed = []
    for path, lines in files.items():
        for line in lines:
            if line.startswith("+"):
                added += 1
                changed.append((path, line[1:]))
            elif line.startswith("-"):
                changed.append((path, line[1:]))
    return Stat(len(files), added, removed, changed)
