from mdlite import parse_blocks, table_of_contents, to_html


def test_heading_and_paragraph():
    assert to_html("# Title\n\nSome *text*\nwrapped.\n") == (
        '<h1 id="title">Title</h1>\n<p>Some <em>text</em> wrapped.</p>\n')


def test_code_fence():
    out = to_html("```py\nx = 1 < 2\n```\n")
    assert out == '<pre><code class="language-py">x = 1 &lt; 2</code></pre>\n'


def test_single_item_list():
    assert to_html("- only\n") == "<ul>\n<li>only</li>\n</ul>\n"


def test_bullet_list():
    assert to_html("Shopping:\n\n- eggs\n- milk\n- bread\n") == (
        "<p>Shopping:</p>\n<ul>\n<li>eggs</li>\n<li>milk</li>\n<li>bread</li>\n</ul>\n")


def test_numbered_list_blocks():
    blocks = parse_blocks("1. one\n2. two\n")
    assert [(b.kind, b.ordered, b.items) for b in blocks] == [("list", True, ["one", "two"])]


def test_paragraph_stops_at_list():
    kinds = [b.kind for b in parse_blocks("intro\n- a\n")]
    assert kinds == ["paragraph", "list"]


def test_toc_slugs_are_unique():
    doc = "# Intro\n## Setup\n## Setup\n#### Deep\n"
    assert table_of_contents(doc) == [(1, "Intro", "intro"), (2, "Setup", "setup"),
                                      (2, "Setup", "setup-2")]
