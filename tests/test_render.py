"""The incremental Markdown renderer: block splitting and cached lines."""

from __future__ import annotations

import random

from rich.console import Console

from apertis_tui.ui.render import Block, BlockSplitter, LineSplitter, RenderedBlocks
from tests.fake_server import long_markdown


def feed_in_pieces(splitter, text: str, seed: int = 1) -> list[Block]:
    rng = random.Random(seed)
    blocks, i = [], 0
    while i < len(text):
        n = rng.randint(1, 40)
        blocks.extend(splitter.feed(text[i : i + n]))
        i += n
    return blocks


def test_blocks_end_at_blank_lines_outside_fences():
    text = "# Title\n\npara one\nstill one\n\n```py\na\n\nb\n```\n\n- x\n\n  continued\n- y\n\nend"
    splitter = BlockSplitter()
    blocks = splitter.feed(text)
    assert [b.text for b in blocks] == ["# Title", "para one\nstill one", "```py\na\n\nb\n```"]
    # The list with an indented continuation stays one block, and is still open.
    assert splitter.tail == "- x\n\n  continued\n- y\n\nend" and not blocks[-1].joined


def test_splitting_does_not_depend_on_how_the_text_arrived():
    text = long_markdown(6000)
    whole = BlockSplitter().feed(text)
    for seed in range(3):
        splitter = BlockSplitter()
        assert feed_in_pieces(splitter, text, seed) == whole
        assert splitter.text == text


def test_long_paragraph_and_long_code_block_are_cut_into_joined_pieces():
    paragraph = "\n".join(f"word {n} [bold]x[/]" for n in range(2000))
    code = "```python\n" + "\n".join(f"x = {n}" for n in range(500)) + "\n```\n\nafter"
    splitter = BlockSplitter()
    blocks = splitter.feed(paragraph + "\n\n" + code)
    paragraph_pieces = [b for b in blocks if b.text.startswith("word")]
    assert len(paragraph_pieces) > 3
    assert all(len(b.text) <= BlockSplitter.MAX_BLOCK_CHARS + 100 for b in paragraph_pieces)
    assert [b.joined for b in paragraph_pieces] == [False] + [True] * (len(paragraph_pieces) - 1)
    code_pieces = [b for b in blocks if b.text.startswith("```python")]
    assert len(code_pieces) >= 4 and all(b.text.endswith("```") for b in code_pieces)
    assert splitter.tail.startswith("```python") or splitter.tail == "after"
    assert splitter.text == paragraph + "\n\n" + code


def test_tables_are_not_cut():
    table = "| a | b |\n|---|---|\n" + "\n".join(f"| {n} | {n * 2} |" for n in range(1000)) + "\n\nend\n"
    blocks = BlockSplitter().feed(table)
    assert len(blocks) == 1 and blocks[0].text.count("\n") == 1001


def test_line_splitter_keeps_blank_lines():
    splitter = LineSplitter()
    assert [b.text for b in splitter.feed("a\n\nb")] == ["a\n"]
    assert splitter.tail == "b" and splitter.text == "a\n\nb"


def test_rendered_lines_match_a_one_shot_render():
    console = Console(width=80)
    text = long_markdown(3000)
    streamed = RenderedBlocks()
    for piece in (text[i : i + 7] for i in range(0, len(text), 7)):
        streamed.append(piece)
        streamed.lines(console, 80)  # as the widget does between pieces
    streamed.close()
    at_once = RenderedBlocks()
    at_once.append(text)
    at_once.close()
    assert [s.text for s in streamed.lines(console, 80)] == [s.text for s in at_once.lines(console, 80)]
    # And a new width renders everything again, consistently.
    assert [s.text for s in streamed.lines(console, 50)] == [s.text for s in at_once.lines(console, 50)]
    assert max(s.cell_length for s in at_once.lines(console, 50)) <= 50


def test_brackets_and_escapes_render_as_text():
    console = Console(width=80)
    blocks = RenderedBlocks()
    blocks.append("[bold]x[/bold] and [/] and [@click=app.quit]q[/] and [link](http://a.example)")
    blocks.close()
    text = "".join(s.text for s in blocks.lines(console, 80))
    assert "[bold]x[/bold]" in text and "[/]" in text and "[@click=app.quit]q[/]" in text
    assert "link (http://a.example)" in text


def texts(lines) -> list[str]:
    return [s.text for s in lines]


def test_a_burst_renders_its_end_first_and_fills_in_the_rest_later():
    """A view that follows the answer asks for its end first: after a burst, the last lines are
    exact at once, what scrolled past stands in as blank lines, and later calls fill it in."""
    console = Console(width=80)
    text = long_markdown(3000)
    whole = RenderedBlocks()
    whole.append(text)
    whole.close()
    expected = texts(whole.lines(console, 80))

    burst = RenderedBlocks()
    burst.append(text)  # all of it at once, as from a server going flat out
    burst.close()
    first = burst.lines(console, 80, budget=0.0, end_first=30)
    assert burst.behind
    assert texts(first)[-30:] == expected[-30:]  # the end is exact
    # One block in order (at least one is rendered per call), then stand-ins.
    assert texts(first)[0] == expected[0] and not any(texts(first)[2:10])
    assert abs(len(first) - len(expected)) < len(expected) // 5  # stand-ins of about the right height
    calls = 0
    while burst.behind:
        burst.lines(console, 80, budget=0.0, end_first=30)
        calls += 1
    assert calls > 1  # filled in a bit at a time
    assert texts(burst.lines(console, 80)) == expected


def test_end_first_while_streaming_ends_the_same_as_in_order():
    console = Console(width=60)
    text = long_markdown(2000)
    streamed = RenderedBlocks()
    rng = random.Random(3)
    i = 0
    while i < len(text):
        n = rng.randint(1, 900)
        streamed.append(text[i : i + n])
        streamed.lines(console, 60, budget=0.0, end_first=rng.choice([0, 5, 40]))
        i += n
    streamed.close()
    while streamed.behind:
        streamed.lines(console, 60, budget=0.0, end_first=12)
    whole = RenderedBlocks()
    whole.append(text)
    whole.close()
    assert texts(streamed.lines(console, 60)) == texts(whole.lines(console, 60))
