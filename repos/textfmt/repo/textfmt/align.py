"""Pad strings to a display width."""
from .widths import text_width

ALIGNMENTS = ("left", "right", "center")


def align(text, width, how="left", fill=" "):
    if how not in ALIGNMENTS:
        raise ValueError(f"alignment must be one of {ALIGNMENTS}, not {how!r}")
    gap = width - text_width(text)
    if gap <= 0:
        return text
    if how == "left":
        return text + fill * gap
    if how == "right":
        return fill * gap + text
    left = gap // 2
    return fill * left + text + fill * (gap - left)


def center(text, width, fill=" "):
    return align(text, width, "center", fill)
