"""Display width of strings: wide East Asian characters take two columns."""
import unicodedata


def char_width(ch):
    if unicodedata.combining(ch):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def text_width(text):
    return sum(char_width(ch) for ch in text)


def take_width(text, width):
    """The longest prefix of text whose display width is at most width (at least one char)."""
    used = 0
    for i, ch in enumerate(text):
        used += char_width(ch)
        if used > width:
            return text[:max(i, 1)]
    return text
