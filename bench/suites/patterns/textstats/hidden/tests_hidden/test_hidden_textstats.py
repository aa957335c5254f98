from textstats import content_words, top_words


def test_content_words():
    assert content_words("The cat sat on the mat. A dog barked.") == ["cat", "sat", "mat", "dog", "barked"]
    assert content_words("THE END") == ["END"]
    assert content_words("") == []


def test_top_words():
    text = "The fox. The dog. A fox and the cat saw The Fox."
    assert top_words(text, 2) == ["fox", "cat"]
