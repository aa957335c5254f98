from mdlite.inline import render_inline


def test_plain_text_is_escaped():
    assert render_inline("a < b & c") == "a &lt; b &amp; c"


def test_emphasis_and_strong():
    assert render_inline("*a* and **b**") == "<em>a</em> and <strong>b</strong>"


def test_code_span_is_literal():
    assert render_inline("use `*args` here") == "use <code>*args</code> here"


def test_link():
    assert render_inline("[docs](https://x.org/a?b=1)") == '<a href="https://x.org/a?b=1">docs</a>'
