from textstats.freq import top_words
from textstats.stop import STOPWORDS, content_words
from textstats.tokens import normalize, sentences, words

__all__ = ["words", "sentences", "normalize", "STOPWORDS", "content_words", "top_words"]
