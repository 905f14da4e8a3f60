"""Free models (ids ending in ":free"): marked in the model picker, and listed by typing "free"."""

from __future__ import annotations

from textual.fuzzy import FuzzySearch

from apertis_tui.core.events import ModelInfo
from apertis_tui.core.models import TYPED, is_free, rank
from apertis_tui.ui.screens.model_picker import ModelPicker
from tests.conftest import pane, screen_text, wait_for
from tests.fake_server import MODELS

SIZE = (110, 40)
FREE = sorted(model["id"] for model in MODELS if model["id"].endswith(":free"))
INFOS = [ModelInfo(model["id"], model.get("owned_by", "")) for model in MODELS]


def test_the_word_free_lists_the_free_models_only():
    search = FuzzySearch()
    # What makes the word needed: fuzzily, "free" is in a model that is not free too.
    assert search.match("free", "fireworks/firefunction-v2")[0] > 0
    assert len(FREE) == 5
    for query in ("free", "FREE", " free "):
        rows = rank(INFOS, query, search.match)
        assert sorted(row.id for row in rows) == FREE, query  # and no "use 'free' as typed"
    assert [row.id for row in rank(INFOS, "free llama", search.match)] == ["llama-3.3-70b-instruct:free"]
    assert [row.id for row in rank(INFOS, "qwen free", search.match)] == ["qwen-turbo:free"]
    assert rank(INFOS, "free claude", search.match) == []
    # Favourites and recently used ones keep their place among the free ones; the rest by id.
    rows = rank(INFOS, "free", search.match, favourites=["qwen-turbo:free", "gpt-4o"], recents=["gpt-4o-mini:free"])
    assert [row.id for row in rows][:2] == ["qwen-turbo:free", "gpt-4o-mini:free"]
    # The "free" of each id is what matched.
    row = rows[0]
    assert [row.id[i] for i in row.offsets] == list("free")


def test_without_the_word_matching_is_unchanged():
    search = FuzzySearch()
    rows = rank(INFOS, "fre", search.match)
    assert "fireworks/firefunction-v2" in [row.id for row in rows]
    assert rows[-1].group == TYPED
    assert is_free("x/Model:FREE") and not is_free("free-model") and not is_free("model:freely")


async def open_picker(pilot) -> ModelPicker:
    await pilot.press("ctrl+o")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, ModelPicker), what="the picker")
    picker = pilot.app.screen
    await wait_for(pilot, lambda: picker.listing is not None and not picker.fetching, what="the model list")
    await pilot.pause()
    return picker


def row_line(app, model_id: str) -> str:
    """The picker's line for ``model_id``, as drawn."""
    return next(line for line in screen_text(app).splitlines() if f" {model_id} " in line)


async def test_the_picker_marks_free_models_and_typing_free_lists_them(make_app, fake_server):
    app = make_app(model="gpt-4o")
    async with app.run_test(size=SIZE) as pilot:
        picker = await open_picker(pilot)
        await pilot.press(*"free")
        await wait_for(pilot, lambda: picker.filter.value == "free", what="free typed")
        assert sorted(row.id for row in picker.rows) == FREE
        assert f"5 of {len(MODELS)} match" in screen_text(app)
        for model_id in FREE:
            assert row_line(app, model_id).rstrip(" ▊▎█").endswith(" free"), row_line(app, model_id)
        assert "fireworks/firefunction-v2" not in screen_text(app)
        # A model that is not free has no mark.
        picker.filter.value = "gpt-4o-mini"
        await wait_for(pilot, lambda: picker.rows[0].id == "gpt-4o-mini", what="gpt-4o-mini")
        await pilot.pause()
        assert not row_line(app, "gpt-4o-mini").rstrip(" ▊▎█").endswith("free")
        # Narrowed and picked like any other.
        picker.filter.value = "free deepseek"
        await wait_for(pilot, lambda: [row.id for row in picker.rows] == ["deepseek-chat:free"], what="narrowed")
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, ModelPicker), what="the picker to close")
        assert pane(app).model == "deepseek-chat:free"
