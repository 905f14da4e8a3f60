"""Several chats open at once: tabs, keys, background streaming, closing, session restore."""

from __future__ import annotations

from apertis_tui.ui.screens.chat_switcher import ChatSwitcher
from apertis_tui.ui.screens.conversation import STREAMING_MARK, UNREAD_MARK
from tests.conftest import screen_text, wait_for
from tests.fake_server import long_markdown

SIZE = (120, 40)


def conv(app):
    return app.conversation


def labels(app) -> list[str]:
    return [label.plain for _, label in conv(app).tabs.tabs]


async def send(pilot, text: str) -> None:
    prompt = pilot.app.active_pane.prompt
    prompt.focus()
    prompt.insert(text)
    await pilot.press("enter")


async def all_done(pilot) -> None:
    await pilot.app.workers.wait_for_complete()
    await wait_for(pilot, lambda: not any(p.is_streaming for p in conv(pilot.app).panes), what="all replies")
    await pilot.pause()


async def test_two_chats_stream_side_by_side_without_mixing(make_app, fake_server):
    fake_server.rate = 150  # 600 tokens: about 4 s per answer
    app = make_app(model="test/long")
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "tokens=600")
        first = app.active_pane
        await wait_for(pilot, lambda: len(first.messages.views) == 2 and first.messages.views[-1].text,
                       what="the first answer to start")
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: len(conv(app).panes) == 2, what="a second chat")
        second = app.active_pane
        assert second is not first and second.chat is None
        second.set_model("test/long")
        await send(pilot, "tokens=601")
        await wait_for(pilot, lambda: second.is_streaming and first.is_streaming, what="both streaming")
        # The first chat streams in the background: its tab says so.
        assert labels(app)[0].startswith(STREAMING_MARK)
        for key in ("ctrl+pageup", "ctrl+pagedown", "ctrl+pageup", "ctrl+pagedown"):
            await pilot.press(key)
        await all_done(pilot)
        for pane, tokens in ((first, 600), (second, 601)):
            user, answer = app.store.messages(pane.chat.id)
            assert user.content == f"tokens={tokens}"
            assert answer.status == "complete"
            assert answer.content == long_markdown(tokens)
            assert pane.messages.views[-1].text == answer.content
        assert app.store.get_chat(first.chat.id).title == "tokens=600"


async def test_unread_mark_and_switching_clears_it(make_app, fake_server):
    app = make_app(model="test/slow")
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "in the background")
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: len(conv(app).panes) == 2, what="a second chat")
        await all_done(pilot)
        assert labels(app)[0].startswith(UNREAD_MARK)
        assert UNREAD_MARK.strip() in screen_text(app)
        await pilot.press("ctrl+pageup")
        await wait_for(pilot, lambda: not labels(app)[0].startswith(UNREAD_MARK), what="the mark to clear")
        assert app.active_pane is conv(app).panes[0]


async def test_closing_a_streaming_chat_keeps_its_partial_reply(make_app, fake_server):
    app = make_app(model="test/slow")
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "a long one")
        pane = app.active_pane
        await wait_for(pilot, lambda: len(pane.messages.views) == 2 and len(pane.messages.views[-1].text) > 10,
                       what="some text")
        chat_id = pane.chat.id
        await pilot.press("ctrl+w")
        await all_done(pilot)
        answer = app.store.messages(chat_id)[-1]
        assert answer.status == "stopped" and len(answer.content) > 10
        # There is always a chat to type in (closing is an action of its own: wait for it).
        await wait_for(pilot, lambda: len(conv(app).panes) == 1 and app.active_pane.chat is None,
                       what="a new empty chat")
        assert app.store.get_chat(chat_id) is not None  # still in history


async def test_session_is_restored_in_order_with_the_same_chat_in_front(make_app, tmp_path):
    db, session = tmp_path / "h.db", tmp_path / "session.json"
    app = make_app(db=db, session=session)
    async with app.run_test(size=SIZE) as pilot:
        for n in range(3):
            if n:
                await pilot.press("ctrl+n")
                await wait_for(pilot, lambda: len(conv(app).panes) == n + 1, what="another chat")
            await send(pilot, f"chat number {n}")
            await all_done(pilot)
        await pilot.press("ctrl+n")  # an empty chat is not remembered
        await wait_for(pilot, lambda: len(conv(app).panes) == 4, what="an empty chat")
        await pilot.press("alt+2")
        await wait_for(pilot, lambda: app.active_pane is conv(app).panes[1], what="chat 2 in front")
        ids = [p.chat.id for p in conv(app).panes[:3]]
    app = make_app(db=db, session=session)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: len(conv(app).panes) == 3, what="three chats restored")
        assert [p.chat.id for p in conv(app).panes] == ids
        assert app.active_pane.chat.id == ids[1]
        assert [label.split(" ", 1)[1] for label in labels(app)] == [f"chat number {n}" for n in range(3)]
        front = app.active_pane
        assert [v.message.role for v in front.messages.views] == ["user", "assistant"]
        # The chats behind it load their messages when they first come to the front.
        behind = [pane for pane in conv(app).panes if pane is not front]
        assert all(not pane.messages.views for pane in behind)
        messages = front.messages
        await wait_for(pilot, lambda: messages.at_end, what="scrolled to the end")
        for number, pane in enumerate(conv(app).panes, start=1):
            await pilot.press(f"alt+{number}")
            await wait_for(pilot, lambda: app.active_pane is pane, what=f"chat {number} in front")
            await wait_for(pilot, lambda: [v.message.role for v in pane.messages.views] == ["user", "assistant"],
                           what=f"chat {number}'s messages")
            assert f"chat number {number - 1}" in screen_text(app)


async def test_jump_keys_switcher_and_palette(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "alpha")
        await all_done(pilot)
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: len(conv(app).panes) == 2, what="a second chat")
        await send(pilot, "beta")
        await all_done(pilot)
        await pilot.press("alt+1")
        await wait_for(pilot, lambda: app.active_pane.chat.title == "alpha", what="alt+1")
        await pilot.press("f4")
        await wait_for(pilot, lambda: isinstance(app.screen, ChatSwitcher), what="the switcher")
        await pilot.press("2")
        await wait_for(pilot, lambda: app.active_pane.chat.title == "beta", what="2 in the switcher")
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Switch to: alpha")
        await wait_for(pilot, lambda: "Switch to: alpha" in screen_text(app), what="the palette entry")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.active_pane.chat.title == "alpha", what="the palette switch")
        await pilot.press("alt+9")
        await pilot.pause()
        assert app.active_pane.chat.title == "alpha"  # no chat 9: nothing moves


async def test_each_chat_keeps_its_own_model_and_draft(make_app, fake_server):
    app = make_app(model="gpt-4o")
    async with app.run_test(size=SIZE) as pilot:
        app.active_pane.prompt.insert("half-typed draft")
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: len(conv(app).panes) == 2, what="a second chat")
        app.active_pane.set_model("claude-sonnet-4-20250514")
        await send(pilot, "hi")
        await all_done(pilot)
        await pilot.press("ctrl+pageup")
        await wait_for(pilot, lambda: app.active_pane is conv(app).panes[0], what="back to chat 1")
        assert app.active_pane.prompt.text == "half-typed draft"
        assert app.active_pane.model == "gpt-4o"
    bodies = [r["json"] for r in fake_server.requests if r["path"].endswith("/chat/completions")]
    assert [b["model"] for b in bodies] == ["claude-sonnet-4-20250514"]


async def test_tab_titles_are_one_trimmed_line(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "   a title\nwith [bold]two[/] lines   ")
        await all_done(pilot)
        assert app.active_pane.chat.title == "a title with [bold]two[/] lines"
        assert labels(app)[0] == "1 a title with [bold]two[…"  # 24 characters, shown literally


async def test_palette_survives_titles_full_of_markup(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "x[/] [bold]y[/bold] [@click=app.quit]z")
        await all_done(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Switch to")
        await wait_for(pilot, lambda: "Switch to: x[/] [bold]y[/bold]" in screen_text(app), what="the entry, literally")
        assert app.is_running
