"""Branches in the real app: every regenerated reply and every edit kept, flipped with a key,
continued, forked; found by search; the same after a restart."""

from __future__ import annotations

from tests.conftest import pane, reply_done, screen_text, send, wait_for

SIZE = (110, 40)


def shown(app) -> list[tuple[str, str | None, tuple[int, int] | None]]:
    """(role, model, versions) of each message on screen, top to bottom."""
    return [(v.message.role, v.message.model, v.versions) for v in pane(app).messages.views]


def sent(fake_server) -> list[tuple[str, str]]:
    """The (role, content) of the last request's messages."""
    return [(m["role"], m["content"]) for m in fake_server.chat_requests[-1]["json"]["messages"]]


async def select_last(pilot, role: str | None = None) -> None:
    """ctrl+up from the prompt, then up until a message of ``role`` is selected."""
    await pilot.press("ctrl+up")
    messages = pane(pilot.app).messages
    await wait_for(pilot, lambda: messages.selected is not None, what="a selected message")
    while role is not None and messages.selected.message.role != role:
        await pilot.press("up")


async def test_regenerate_twice_then_flip_through_three_versions(make_app, fake_server):
    app = make_app(model="gpt-4o")
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "hello")
        await reply_done(pilot)
        for model in ("gpt-4o-mini", "gpt-4.1"):
            pane(app).set_model(model)
            await pilot.press("ctrl+g")
            await reply_done(pilot)
        assert shown(app) == [("user", None, None), ("assistant", "gpt-4.1", (3, 3))]
        assert "gpt-4.1  ‹ 3/3 ›" in screen_text(app)
        await select_last(pilot)
        await pilot.press("left")
        await wait_for(pilot, lambda: shown(app)[-1][1] == "gpt-4o-mini", what="the second version")
        assert shown(app)[-1] == ("assistant", "gpt-4o-mini", (2, 3))
        assert pane(app).messages.selected.message.model == "gpt-4o-mini"  # the selection follows the flip
        await pilot.press("left")
        await wait_for(pilot, lambda: shown(app)[-1][1] == "gpt-4o", what="the first version")
        assert "‹ 1/3 ›" in screen_text(app)
        await pilot.press("left")  # there is nothing before the first: nothing changes
        await pilot.press("right", "right")
        await wait_for(pilot, lambda: shown(app)[-1][1] == "gpt-4.1", what="back to the third")
        assert len(app.store.messages(pane(app).chat.id)) == 4  # every version kept
        assert "branch 3 of 3" in screen_text(app)
        await pilot.press("escape")
        assert pane(app).messages.selected is None
        assert app.focused is pane(app).prompt


async def test_edit_the_first_question_then_flip_back_and_continue_the_old_branch(make_app, fake_server):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "what is a fox")
        await reply_done(pilot)
        await send(pilot, "and a wolf")
        await reply_done(pilot)
        old_answers = [v.message.content for v in pane(app).messages.views if v.message.role == "assistant"]
        chat_pane = pane(app)
        await send(pilot, "")  # nothing: an empty prompt is not sent
        chat_pane.prompt.insert("my draft")
        await pilot.press("ctrl+up", "up", "up", "up")  # the first question
        assert chat_pane.messages.selected.message.content == "what is a fox"
        await pilot.press("e")
        assert chat_pane.prompt.text == "what is a fox" and chat_pane.editing is not None
        assert "editing" in screen_text(app)
        await pilot.press("escape")  # the draft comes back, nothing changes
        assert chat_pane.prompt.text == "my draft" and chat_pane.editing is None
        await pilot.press("ctrl+up", "up", "up", "up", "e")
        chat_pane.prompt.clear()
        chat_pane.prompt.insert("what is a cat")
        await pilot.press("enter")
        await reply_done(pilot)
        # The new branch's request: the edited question, none of the old answers.
        assert sent(fake_server) == [("user", "what is a cat")]
        assert [v.message.content for v in chat_pane.messages.views][0] == "what is a cat"
        assert shown(app)[0] == ("user", None, (2, 2)) and len(shown(app)) == 2
        assert "branch 2 of 2" in screen_text(app)
        # Flip back to the first question: its answers come back below it.
        await pilot.press("ctrl+up", "up")
        await pilot.press("left")
        await wait_for(pilot, lambda: len(chat_pane.messages.views) == 4, what="the old branch")
        assert [v.message.content for v in chat_pane.messages.views][::2] == ["what is a fox", "and a wolf"]
        await pilot.press("escape")
        await send(pilot, "and a bear")
        await reply_done(pilot)
        assert sent(fake_server) == [("user", "what is a fox"), ("assistant", old_answers[0]),
                                     ("user", "and a wolf"), ("assistant", old_answers[1]), ("user", "and a bear")]


async def test_fork_then_continue_the_fork_without_touching_the_original(make_app, fake_server):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "first question")
        await reply_done(pilot)
        await send(pilot, "second question")
        await reply_done(pilot)
        original = pane(app).chat
        before = [(m.id, m.content) for m in app.store.messages(original.id)]
        await pilot.press("ctrl+up", "up", "up")  # the first reply
        await pilot.press("f")
        await wait_for(pilot, lambda: pane(app).chat is not None and pane(app).chat.id != original.id,
                       what="the fork's tab")
        fork = pane(app).chat
        assert fork.title == "Fork of first question"
        assert [v.message.content for v in pane(app).messages.views] == [before[0][1], before[1][1]]
        await send(pilot, "in the fork")
        await reply_done(pilot)
        assert sent(fake_server) == [("user", "first question"), ("assistant", before[1][1]), ("user", "in the fork")]
        assert [(m.id, m.content) for m in app.store.messages(original.id)] == before
        assert len(app.conversation.panes) == 2


async def test_a_search_hit_in_another_branch_opens_that_branch(make_app, fake_server):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "tell me about aardvarks")
        await reply_done(pilot)
        chat_pane = pane(app)
        await pilot.press("ctrl+up", "up", "e")
        chat_pane.prompt.clear()
        chat_pane.prompt.insert("tell me about zebras")
        await pilot.press("enter")
        await reply_done(pilot)
        contents = lambda: [v.message.content for v in chat_pane.messages.views]  # noqa: E731
        assert contents()[0] == "tell me about zebras"
        # ctrl+r, type, the hit on the message (not the title's), enter: as a user finds it.
        from apertis_tui.ui.screens.history import HistoryScreen

        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen), what="the history")
        screen = app.screen
        await pilot.press(*"aardvarks")
        await wait_for(pilot, lambda: screen.query_text == "aardvarks" and screen.rows, what="the hits")
        for _ in range(5):
            if screen.current is not None and screen.current.message_id is not None:
                break
            await pilot.press("down")
        assert screen.current.message_id is not None and "aardvarks" in screen.current.hit.snippet
        await pilot.press("enter")
        await wait_for(pilot, lambda: contents()[:1] == ["tell me about aardvarks"], what="the other branch")
        assert app.store.get_chat(chat_pane.chat.id).current_id == chat_pane.leaf_id
        assert shown(app)[0] == ("user", None, (1, 2))


async def test_the_current_branch_is_the_same_after_a_restart(make_app, tmp_path):
    db = tmp_path / "branches.db"
    app = make_app(model="gpt-4o", db=db)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "hello")
        await reply_done(pilot)
        pane(app).set_model("gpt-4o-mini")
        await pilot.press("ctrl+g")
        await reply_done(pilot)
        await pilot.press("ctrl+up", "left")
        await wait_for(pilot, lambda: shown(app)[-1][1] == "gpt-4o", what="the first version")
        chat_id = pane(app).chat.id
    again = make_app(db=db)
    async with again.run_test(size=SIZE) as pilot:
        await again.open_chat(chat_id)
        await wait_for(pilot, lambda: len(pane(again).messages.views) == 2, what="the chat")
        assert shown(again)[-1] == ("assistant", "gpt-4o", (1, 2))
        assert "branch 1 of 2" in screen_text(again)


async def test_copy_and_keys_from_the_selection(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "copy me")
        await reply_done(pilot)
        await pilot.press("ctrl+up", "up", "c")
        assert app.clipboard == "copy me"
        await pilot.press("down", "c")
        assert app.clipboard == pane(app).messages.views[-1].text
        await pilot.press("down")  # past the last: back to the prompt
        assert app.focused is pane(app).prompt and pane(app).messages.selected is None
        await pilot.press("f1")  # the selection's keys are listed from the prompt too
        await wait_for(pilot, lambda: type(app.screen).__name__ == "KeysScreen", what="the keys screen")
        rows = dict(app.screen.groups)["A selected message (ctrl+up selects)"]
        assert ("f", "Fork: a new chat with the conversation up to here") in rows
        assert ("← →", "Previous / next version of this turn") in rows


async def test_another_instance_adds_a_branch_while_this_one_shows_the_chat(make_app, fake_server, tmp_path):
    from apertis_tui.core.store import History

    db = tmp_path / "shared.db"
    app = make_app(db=db)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "first")
        await reply_done(pilot)
        chat_pane = pane(app)
        shown_reply = chat_pane.messages.views[-1].message
        with History(db) as other:  # a second copy of the app, on the same file
            version = other.start_assistant(chat_pane.chat.id, "gpt-4.1", parent_id=shown_reply.parent_id)
            other.finish_message(version.id, content="the other copy's version", status="complete")
            assert other.get_chat(chat_pane.chat.id).current_id == version.id
        await send(pilot, "second")  # this copy goes on with the branch it shows
        await reply_done(pilot)
        assert sent(fake_server) == [("user", "first"), ("assistant", shown_reply.content), ("user", "second")]
        assert app.store.get_chat(chat_pane.chat.id).current_id == chat_pane.leaf_id
        await pilot.press("ctrl+up", "up", "up")  # the reply: it has another version now
        await pilot.press("right")
        await wait_for(pilot, lambda: chat_pane.messages.views[-1].message.id == version.id, what="the other version")
        assert shown(app)[-1] == ("assistant", "gpt-4.1", (2, 2))


async def test_r_home_end_and_the_palette_act_on_messages(make_app, fake_server):
    from tests.test_model_picker import palette

    app = make_app(model="gpt-4o")
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "one")
        await reply_done(pilot)
        await send(pilot, "two")
        await reply_done(pilot)
        chat_pane = pane(app)
        await pilot.press("ctrl+up", "home")
        assert chat_pane.messages.selected is chat_pane.messages.views[0]
        await pilot.press("end", "up", "up", "r")  # regenerate the first reply, with the chat's model
        await reply_done(pilot)
        assert shown(app) == [("user", None, None), ("assistant", "gpt-4o", (2, 2))]
        assert sent(fake_server) == [("user", "one")]
        await palette(pilot, "Previous version", "Of the selected message, else the last reply")
        await wait_for(pilot, lambda: len(chat_pane.messages.views) == 4, what="the first branch again")
        assert [v.message.content for v in chat_pane.messages.views][2] == "two"
        await palette(pilot, "Fork the chat here", "A new chat up to the selected message")
        await wait_for(pilot, lambda: len(app.conversation.panes) == 2, what="the fork")
        assert [m.content for m in app.store.messages(pane(app).chat.id)][0] == "one"


async def test_the_user_agent_setting_reaches_the_server(make_app, fake_server):
    app = make_app(APERTIS_USER_AGENT="my-client/2.0")
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "hi")
        await reply_done(pilot)
    assert fake_server.chat_requests[-1]["headers"]["user-agent"] == "my-client/2.0"


async def test_a_version_far_up_a_long_branch_shows_a_page_at_a_time(make_app, fake_server):
    app = make_app()
    store = app.store
    chat = store.create_chat("gpt-4o", title="long")
    first = store.add_message(chat.id, "user", "q1")
    other = store.add_message(chat.id, "assistant", "the other version of a1")
    parent = store.add_message(chat.id, "assistant", "a1", parent_id=first.id).id
    for n in range(2, 61):  # 120 messages on the branch in view
        parent = store.add_message(chat.id, "user", f"q{n}", parent_id=parent).id
        parent = store.add_message(chat.id, "assistant", f"a{n}", parent_id=parent).id
    async with app.run_test(size=SIZE) as pilot:
        await app.open_chat(chat.id, other.id)  # a search hit in the other branch, far up
        chat_pane = pane(app)
        await wait_for(pilot, lambda: chat_pane.messages.views and chat_pane.messages.views[1].message.id == other.id,
                       what="the other version")
        assert len(chat_pane.messages.views) == 2 and not chat_pane.messages.more_after
        await pilot.press("ctrl+up", "right")  # back to the long branch: a page of it, not 119 messages
        await wait_for(pilot, lambda: len(chat_pane.messages.views) > 2, what="the long branch")
        assert len(chat_pane.messages.views) == 1 + chat_pane.messages.PAGE and chat_pane.messages.more_after
        assert chat_pane.messages.views[1].message.content == "a1"
        await pilot.press("end", "down")  # past the last shown: the next page comes in
        await wait_for(pilot, lambda: len(chat_pane.messages.views) > 1 + chat_pane.messages.PAGE, what="a page more")
        await pilot.press("escape")
        await send(pilot, "and the end?")  # the branch's end, with the new message
        await reply_done(pilot)
        assert [v.message.content for v in chat_pane.messages.views][-3:-1] == ["a60", "and the end?"]
        assert not chat_pane.messages.more_after
        assert len(sent(fake_server)) == 121 and sent(fake_server)[-2] == ("assistant", "a60")
