"""Greedy word wrapping."""
from .widths import take_width, text_width


def _split_long(word, width):
    pieces = []
    while text_width(word) > width:
        head = take_width(word, width)
        pieces.append(head)
        word = word[len(head):]
    if word:
        pieces.append(word)
    return pieces


def wrap(text, width=70, break_long_words=False):
    """Wrap text into lines of at most `width` columns.

    Whitespace runs collapse to one space. Words longer than `width` are broken
    into pieces unless break_long_words is False, in which case they stay whole
    on a line of their own.
    """
    if width < 1:
        raise ValueError("width must be at least 1")
    lines = []
    current = ""
    for word in text.split():
        pieces = _split_long(word, width) if break_long_words else [word]
        for piece in pieces:
            if not current:
                current = piece
            elif text_width(current) + 1 + text_width(piece) <= width:
                current = f"{current} {piece}"
            else:
                lines.append(current)
                current = piece
    if current:
        lines.append(current)
    return lines


def fill(text, width=70, **kwargs):
    return "\n".join(wrap(text, width, **kwargs))
