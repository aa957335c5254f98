from collections import Counter

from textstats.stop import content_words
from textstats.tokens import normalize


def top_words(text, n=3):
    """The n commonest content words (lowercased), most common first, ties alphabetical."""
    counts = Counter(normalize(w) for w in content_words(text))
    return [w for w, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]]
