from textstats import content_words, sentences, words


def test_words_and_sentences():
    assert words("It's a well-known fact.") == ["It's", "a", "well-known", "fact"]
    assert sentences("One. Two! Three?") == ["One.", "Two!", "Three?"]


def test_content_words_lowercase():
    assert content_words("the cat sat on the mat") == ["cat", "sat", "mat"]


def test_content_words_keep_case_and_drop_capitalised_stopwords():
    assert content_words("The Cat sat on the mat") == ["Cat", "sat", "mat"]
