from textstats.tokens import words

STOPWORDS = frozenset("""
a an and are as at be by for from has he in is it its of on or that the to was were will with
""".split())


def content_words(text):
    """The words of text that are not stopwords, in order, as written."""
    return [w for w in words(text) if w not in STOPWORDS]
