from mdlite import parse_blocks, to_html


def test_list_followed_by_paragraph():
    doc = "- a\n- b\n\nAfter the list.\n"
    assert to_html(doc) == "<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n<p>After the list.</p>\n"


def test_continuation_lines_join_items():
    blocks = parse_blocks("- first item\n  continues here\n- second\n")
    assert blocks[0].items == ["first item continues here", "second"]


def test_mixed_markers_and_numbers():
    blocks = parse_blocks("* x\n+ y\n- z\n\n3) c\n4) d\n")
    assert [(b.ordered, b.items) for b in blocks] == [(False, ["x", "y", "z"]), (True, ["c", "d"])]


def test_list_then_heading_then_list():
    doc = "- a\n- b\n# H\n1. x\n2. y\n3. z\n"
    assert [b.kind for b in parse_blocks(doc)] == ["list", "heading", "list"]
    assert len(parse_blocks(doc)[2].items) == 3


def test_inline_markup_inside_items():
    out = to_html("- **bold** item\n- `code` item\n")
    assert "<li><strong>bold</strong> item</li>\n<li><code>code</code> item</li>" in out


def test_list_at_end_without_newline():
    assert to_html("- a\n- b") == "<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n"
