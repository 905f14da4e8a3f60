"""The model picker (ctrl+o), switching models mid-chat and regenerating with another model,
driven through Pilot against the fake server."""

from __future__ import annotations

import asyncio
import json
import time

from apertis_tui.core.settings.file import Settings
from apertis_tui.core.models import ModelPrefs, cache_path, load_cache, prefs_path, save_cache
from apertis_tui.core.events import ModelInfo
from apertis_tui.ui.screens.model_picker import ModelPicker
from apertis_tui.ui.widgets.model_rows import ModelRows
from tests.conftest import pane, reply_done, screen_text, send, wait_for
from tests.fake_server import MODEL_IDS

SIZE = (110, 40)
A = "gpt-4o"
B = "claude-sonnet-4-20250514"


async def open_picker(pilot) -> ModelPicker:
    await pilot.press("ctrl+o")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, ModelPicker), what="the picker")
    await pilot.app.workers.wait_for_complete()  # the background refresh, if one started
    await pilot.pause()
    return pilot.app.screen


async def type_text(pilot, text: str) -> None:
    picker: ModelPicker = pilot.app.screen
    await pilot.press(*text)
    await wait_for(pilot, lambda: picker.filter.value == text, what=f"{text!r} typed")


async def pick(pilot, query: str, key: str = "enter") -> None:
    """ctrl+o, type ``query``, press ``key``: as a user would."""
    await open_picker(pilot)
    await type_text(pilot, query)
    await pilot.press(key)
    await wait_for(pilot, lambda: not isinstance(pilot.app.screen, ModelPicker), what="the picker to close")


async def palette(pilot, query: str, help_text: str) -> None:
    """Run a command-palette entry: ctrl+p, type, wait for the entry (its help text), enter."""
    await pilot.press("ctrl+p")
    await wait_for(pilot, lambda: type(pilot.app.screen).__name__ == "CommandPalette", what="the palette")
    await pilot.press(*query)
    await wait_for(pilot, lambda: help_text in screen_text(pilot.app), what=f"the {query!r} entry")
    await pilot.press("enter")


def shown_rows(picker: ModelPicker) -> list[str]:
    return [row.id for row in picker.rows]


def labels(app) -> list[str]:
    """The first line of each message as drawn: "You ..." or the reply's model."""
    return [view._lines[0].text.split("  ")[0] for view in pane(app).messages.views]


def notices(app) -> str:
    return "\n".join(str(toast.render()) for toast in app.screen.query("Toast"))


def chat_bodies(server) -> list[dict]:
    return [r["json"] for r in server.chat_requests]


def model_list_requests(server) -> list[dict]:
    return [r for r in server.requests if r["path"].split("?")[0].rstrip("/") == "/v1/models"]


# ---------------------------------------------------------------------------
# Opening, cache and refresh


async def test_first_open_fetches_the_list_in_the_background_and_caches_it(make_app, fake_server):
    app = make_app(model=A)
    async with app.run_test(size=SIZE) as pilot:
        picker = await open_picker(pilot)
        assert len(model_list_requests(fake_server)) == 1
        assert picker.listing is not None and len(picker.listing.models) == len(MODEL_IDS)
        assert f"{len(MODEL_IDS)} models · list from just now" in screen_text(app)
        # Nothing typed: the current model is highlighted, so Enter keeps it.
        assert picker.highlighted_row.id == A
        assert "current" in screen_text(app)
    cached = load_cache(fake_server.base_url)
    assert cached is not None and cached.ids == MODEL_IDS


async def test_a_fresh_cache_opens_at_once_without_asking_the_server(make_app, fake_server):
    save_cache(fake_server.base_url, [ModelInfo("only/cached-model", "cache")])
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        picker = await open_picker(pilot)
        assert shown_rows(picker) == ["only/cached-model"]
        assert "only/cached-model" in screen_text(app) and "cache" in screen_text(app)
        assert model_list_requests(fake_server) == []
        await pilot.press("ctrl+r")  # refresh on demand
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert len(model_list_requests(fake_server)) == 1
        assert len(picker.rows) == len(MODEL_IDS)


class HeldClient:
    """The app's client, with list_models held until ``release`` is set."""

    def __init__(self, real) -> None:
        self.real = real
        self.release = asyncio.Event()

    async def list_models(self):
        await self.release.wait()
        return await self.real.list_models()


async def test_a_stale_cache_is_shown_at_once_then_refreshed_in_the_background(make_app, fake_server):
    save_cache(fake_server.base_url, [ModelInfo("old/model", "x")], fetched_at=time.time() - 2 * 86400)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        real = app.client
        app.client = held = HeldClient(real)
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: isinstance(app.screen, ModelPicker), what="the picker")
        picker = app.screen
        await wait_for(pilot, lambda: "old/model" in screen_text(app), what="the cached list")
        assert "1 model · list from 2 days ago · refreshing…" in screen_text(app)
        await type_text(pilot, "old")  # usable while the list is on its way
        held.release.set()
        await app.workers.wait_for_complete()
        await pilot.pause()
        app.client = real
        assert len(model_list_requests(fake_server)) == 1
        assert picker.filter.value == "old"
        assert "old/model" not in shown_rows(picker)
        picker.filter.value = ""
        await wait_for(pilot, lambda: len(picker.rows) == len(MODEL_IDS), what="the new list")
        assert f"{len(MODEL_IDS)} models · list from just now" in screen_text(app)
    assert load_cache(fake_server.base_url).age() < 60


async def test_offline_the_cache_serves_and_the_picker_says_since_when(make_app, fake_server):
    save_cache(fake_server.base_url, [ModelInfo(A, "openai"), ModelInfo(B, "anthropic")],
               fetched_at=time.time() - 2 * 86400 - 30)  # stale: the picker tries to refresh it
    fake_server.stop()
    app = make_app(model=A)
    async with app.run_test(size=SIZE) as pilot:
        picker = await open_picker(pilot)
        text = " ".join(screen_text(app).split())
        assert "offline — list from 2 days ago" in text
        assert "Could not reach 127.0.0.1" in text  # the error sentence, dimmed
        assert picker.query_one("#picker-status").has_class("-problem")
        assert shown_rows(picker) == [B, A]
        await type_text(pilot, "sonnet")
        await pilot.press("enter")
        await wait_for(pilot, lambda: pane(app).model == B, what="the model to change")


async def test_offline_without_a_cache_a_typed_id_still_works(make_app, fake_server):
    fake_server.stop()
    app = make_app(model=A)
    async with app.run_test(size=SIZE) as pilot:
        await open_picker(pilot)
        text = " ".join(screen_text(app).split())
        assert "no model list yet (offline)" in text and "Type a model id to use it as typed" in text
        await type_text(pilot, "my/model")
        assert "use 'my/model' as typed" in screen_text(app)
        await pilot.press("enter")
        await wait_for(pilot, lambda: pane(app).model == "my/model", what="the typed model")


# ---------------------------------------------------------------------------
# Filtering, choosing, favourites, recents


async def test_fuzzy_filter_highlights_and_enter_picks(make_app, fake_server):
    app = make_app(model=A)
    async with app.run_test(size=SIZE) as pilot:
        picker = await open_picker(pilot)
        await type_text(pilot, "clsn4")
        assert picker.rows and all(row.id == "clsn4" or row.offsets for row in picker.rows)
        best = picker.rows[0]
        assert best.id.startswith("claude-sonnet-4")
        assert f"{len(picker.rows) - 1} of {len(MODEL_IDS)} match" in screen_text(app)
        assert best.id in screen_text(app) and "anthropic" in screen_text(app)  # owner beside the id
        await pilot.press("down")
        second = picker.highlighted_row.id
        assert second == picker.rows[1].id
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, ModelPicker), what="the picker to close")
        assert pane(app).model == second
        assert second in screen_text(app)  # the chat's header
        assert pane(app).status.state == "ready"
        assert ModelPrefs.load().recents == [second]


async def test_escape_cancels(make_app):
    app = make_app(model=A)
    async with app.run_test(size=SIZE) as pilot:
        await open_picker(pilot)
        await type_text(pilot, "qwen")
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, ModelPicker), what="the picker to close")
        assert pane(app).model == A
        assert ModelPrefs.load().recents == []


async def test_clicking_a_row_picks_it(make_app):
    app = make_app(model=A)
    async with app.run_test(size=SIZE) as pilot:
        picker = await open_picker(pilot)
        await type_text(pilot, "grok-3")
        target = picker.rows[1].id
        await pilot.click(ModelRows, offset=(4, 1))
        await wait_for(pilot, lambda: pane(app).model == target, what="the clicked model")


async def test_favourites_toggle_persist_and_come_first(make_app):
    app = make_app(model=A)
    async with app.run_test(size=SIZE) as pilot:
        picker = await open_picker(pilot)
        await type_text(pilot, "qwen-max")
        assert picker.highlighted_row.id == "qwen-max"
        await pilot.press("ctrl+f")
        await pilot.pause()
        assert "★ qwen-max" in screen_text(app)
        assert ModelPrefs.load().favourites == ["qwen-max"]
        assert json.loads(prefs_path().read_text())["favourites"] == ["qwen-max"]
        await pilot.press("escape")
        picker = await open_picker(pilot)
        assert shown_rows(picker)[0] == "qwen-max"  # favourites first
        await type_text(pilot, "q")
        assert shown_rows(picker)[0] == "qwen-max"
        picker.filter.value = "qwen-max"
        await wait_for(pilot, lambda: picker.highlighted_row.id == "qwen-max", what="the favourite")
        await pilot.press("ctrl+f")  # and off again
        await pilot.pause()
        assert ModelPrefs.load().favourites == []
        assert "★" not in screen_text(app)


async def test_recently_used_come_after_favourites(make_app):
    app = make_app(model=A)
    async with app.run_test(size=SIZE) as pilot:
        await pick(pilot, "qwen-plus")
        await pick(pilot, "grok-3-mini")
        picker = await open_picker(pilot)
        await pilot.press("ctrl+f")  # the current model (highlighted) becomes a favourite
        await pilot.pause()
        rows = picker.rows
        assert [r.id for r in rows[:2]] == ["grok-3-mini", "qwen-plus"]
        assert rows[0].favourite and rows[1].recent and not rows[2].recent
        assert "recent" in screen_text(app)
    assert ModelPrefs.load().recents == ["grok-3-mini", "qwen-plus"]


async def test_model_ids_are_shown_as_text_never_markup(make_app, fake_server):
    hostile = ["evil[/]", "[@click=app.quit]boom[/]", "[bold]b[/bold]", "tit\x1b]0;pwned\x07le"]
    cache_path(fake_server.base_url).parent.mkdir(parents=True, exist_ok=True)
    cache_path(fake_server.base_url).write_text(json.dumps({
        "version": 1, "fetched_at": time.time(), "base_url": fake_server.base_url,
        "models": [{"id": model_id, "owned_by": "[red]x[/]"} for model_id in hostile]}))
    app = make_app(model=A)
    async with app.run_test(size=SIZE) as pilot:
        picker = await open_picker(pilot)
        text = screen_text(app)
        for shown in ("evil[/]", "[@click=app.quit]boom[/]", "[bold]b[/bold]", "tit]0;pwnedle", "[red]x[/]"):
            assert shown in text, shown
        assert "\x1b" not in text
        await type_text(pilot, "[/]")
        assert picker.rows and app.is_running
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, ModelPicker), what="the picker to close")
        assert pane(app).model in hostile
        assert app.is_running


async def test_palette_opens_the_picker_and_ctrl_o_inside_does_not_stack(make_app):
    app = make_app(model=A)
    async with app.run_test(size=SIZE) as pilot:
        await palette(pilot, "Pick model", "Choose the model for this chat's next turns")
        await wait_for(pilot, lambda: isinstance(app.screen, ModelPicker), what="the picker")
        assert not app.screen.regenerate
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert sum(isinstance(s, ModelPicker) for s in app.screen_stack) == 1


# ---------------------------------------------------------------------------
# Switching mid-conversation


async def test_three_turns_over_two_models_send_the_whole_history_and_keep_labels(make_app, fake_server, tmp_path):
    app = make_app(model=A, db=tmp_path / "h.db")
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "echo:one")
        await reply_done(pilot)
        await pick(pilot, "clsn4")
        assert pane(app).model == B
        await send(pilot, "echo:two")
        await reply_done(pilot)
        await pick(pilot, "gpt-4o")  # an exact id wins over longer fuzzy matches
        assert pane(app).model == A
        await send(pilot, "echo:three")
        await reply_done(pilot)

        bodies = chat_bodies(fake_server)
        assert [b["model"] for b in bodies] == [A, B, A]
        assert bodies[2]["messages"] == [
            {"role": "user", "content": "echo:one"}, {"role": "assistant", "content": "one"},
            {"role": "user", "content": "echo:two"}, {"role": "assistant", "content": "two"},
            {"role": "user", "content": "echo:three"}]
        assert [m["content"] for m in bodies[1]["messages"]] == ["echo:one", "one", "echo:two"]
        chat_id = pane(app).chat.id
        stored = app.store.messages(chat_id)
        assert [(m.role, m.model) for m in stored if m.role == "assistant"] == [
            ("assistant", A), ("assistant", B), ("assistant", A)]
        assert labels(app) == ["You", A, "You", B, "You", A]
        text = screen_text(app)
        assert A in text and B in text
        assert app.store.get_chat(chat_id).model == A  # the chat's model for its next turn

    # A restart on the same database: the chat reopened from the store keeps every label.
    again = make_app(model="qwen-max", db=tmp_path / "h.db")
    async with again.run_test(size=SIZE) as pilot:
        await again.open_chat(chat_id)
        await wait_for(pilot, lambda: pane(again).chat is not None and pane(again).chat.id == chat_id,
                       what="the stored chat")
        await wait_for(pilot, lambda: len(pane(again).messages.views) == 6, what="its messages")
        await pilot.pause()
        assert labels(again) == ["You", A, "You", B, "You", A]
        assert pane(again).model == A  # the chat's own model, not -m
        assert [m.model for m in again.store.messages(chat_id) if m.role == "assistant"] == [A, B, A]


async def test_switching_before_the_first_message_sets_the_new_chats_model(make_app, fake_server):
    app = make_app(model=A)
    async with app.run_test(size=SIZE) as pilot:
        await pick(pilot, "qwen-max")
        await send(pilot, "echo:hi")
        await reply_done(pilot)
        assert chat_bodies(fake_server)[-1]["model"] == "qwen-max"
        assert app.store.get_chat(pane(app).chat.id).model == "qwen-max"


async def test_unknown_models_read_as_a_sentence_that_points_to_ctrl_o(make_app, fake_server):
    app = make_app(model=A)
    async with app.run_test(size=SIZE) as pilot:
        for model, status in (("test/err-503-model", 503), ("test/err-404", 404), ("no/such-model", 503)):
            await pick(pilot, model)
            await send(pilot, "hi")
            await reply_done(pilot)
            answer = app.store.messages(pane(app).chat.id)[-1]
            sentence = f"Model {model} is not available with your key ({status})"
            assert answer.status == "error" and answer.error.startswith(sentence)
            assert answer.error.endswith(" Pick another with ctrl+o.")
            assert answer.model == model
            assert sentence in screen_text(app)  # inline in the chat, in the reply's error box


async def test_model_for_new_chats_comes_from_m_then_the_settings(make_app):
    app = make_app(model=None, settings=Settings(default_model="qwen-max"))
    async with app.run_test(size=SIZE):
        assert pane(app).model == "qwen-max"
    app = make_app(model="grok-3", settings=Settings(default_model="qwen-max"))
    async with app.run_test(size=SIZE) as pilot:
        assert pane(app).model == "grok-3"
        assert "grok-3" in screen_text(app)
        await pick(pilot, "o3-mini")
        await pilot.press("ctrl+n")  # a new chat starts again from -m
        await wait_for(pilot, lambda: len(app.conversation.panes) == 2, what="a new chat")
        assert pane(app).model == "grok-3"


# ---------------------------------------------------------------------------
# Regenerate with another model


def statuses(app) -> list[tuple[str, str | None, str]]:
    return [(m.role, m.model, m.status) for m in app.store.messages(pane(app).chat.id)]


async def test_regenerate_with_from_the_palette_keeps_the_other_version_out_of_context(make_app, fake_server):
    app = make_app(model=A)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "echo:first")
        await reply_done(pilot)
        await palette(pilot, "Regenerate with", "Replace the last reply with one from a model you pick")
        await wait_for(pilot, lambda: isinstance(app.screen, ModelPicker), what="the picker")
        assert app.screen.regenerate
        assert "Regenerate the last reply with" in screen_text(app)
        await app.workers.wait_for_complete()
        await type_text(pilot, "clsn4")
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, ModelPicker), what="the picker to close")
        await reply_done(pilot)
        assert statuses(app) == [("user", None, "complete"), ("assistant", A, "complete"),
                                 ("assistant", B, "complete")]
        assert labels(app) == ["You", B]  # the first version is a sibling: one flip away, not shown
        assert pane(app).messages.views[-1].versions == (2, 2)
        assert pane(app).model == A  # regenerate-with is once; the chat keeps its model
        await send(pilot, "echo:second")
        await reply_done(pilot)
    bodies = chat_bodies(fake_server)
    assert [b["model"] for b in bodies] == [A, B, A]
    assert bodies[1]["messages"] == [{"role": "user", "content": "echo:first"}]
    assert bodies[2]["messages"] == [
        {"role": "user", "content": "echo:first"}, {"role": "assistant", "content": "first"},
        {"role": "user", "content": "echo:second"}]
    assert ModelPrefs.load().recents == [B]


async def test_ctrl_g_in_the_picker_regenerates_with_the_highlighted_model(make_app, fake_server):
    app = make_app(model=A)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "echo:hello")
        await reply_done(pilot)
        await pick(pilot, "qwen-max", key="ctrl+g")
        await reply_done(pilot)
        assert statuses(app)[1:] == [("assistant", A, "complete"), ("assistant", "qwen-max", "complete")]
        assert labels(app) == ["You", "qwen-max"]
        assert chat_bodies(fake_server)[-1]["model"] == "qwen-max"


async def test_regenerate_with_needs_a_reply_first(make_app):
    app = make_app(model=A)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        app.action_pick_model(regenerate=True)
        await wait_for(pilot, lambda: "Nothing to regenerate yet" in notices(app), what="the notice")
        assert not isinstance(app.screen, ModelPicker)


async def test_f1_in_the_picker_lists_its_keys(make_app):
    app = make_app(model=A)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f1")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "KeysScreen", what="the keys screen")
        assert "^o  Model" in screen_text(app)
        await pilot.press("escape")
        await open_picker(pilot)
        await pilot.press("f1")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "KeysScreen", what="the keys screen")
        text = screen_text(app)
        for words in ("Regenerate with", "Favourite", "Refresh list", "Cancel"):
            assert words in text, words
