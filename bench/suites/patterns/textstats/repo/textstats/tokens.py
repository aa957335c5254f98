import re

_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")


def words(text):
    return _WORD.findall(text)


def sentences(text):
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if s.strip()]


def normalize(word):
    return word.lower()
