"""The fault matrix, in the UI: every failure ends in a sentence that says what happened and what
to do, the partial reply kept and marked, a prompt that still takes text, and a retry that works.

tests/test_conversation.py checks each error's sentence on its own; here are the faults it does
not cover (a closed port, a silent server, a history that cannot be written) and what comes
after every fault: the retry.
"""

from __future__ import annotations

import re
import socket

import pytest

from apertis_tui.core.settings.file import Settings
from apertis_tui.core.settings.resolve import Resolved
from tests.conftest import pane, screen_text, send, wait_for
from tests.fake_server import normal_answer

SIZE = (110, 40)
GOOD = "gpt-4o"


def shown(app) -> str:
    """The screen as one line of words: box drawing and the scroll bar gone, wrapped sentences
    joined again."""
    text = re.sub("[│╭╮╰╯─\u2580-\u259f]", " ", screen_text(app))
    return " ".join(text.split())


async def answer_ends(pilot, timeout: float = 15) -> None:
    await wait_for(pilot, lambda: not pane(pilot.app).is_streaming, timeout, what="the answer to end")
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def stored(app):
    return app.store.messages(pane(app).chat.id)


def closed_port_url() -> str:
    """The address of a port nobody listens on: connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


async def point_at(app, base_url: str) -> None:
    """As saving a new base URL in Settings (f2) does."""
    await app.apply_settings(app.settings, app.connection._replace(base_url=Resolved(base_url, "config")))


async def assert_alive_and_retry_works(pilot, failed_id: int) -> None:
    """The prompt takes text; ctrl+g (with the cause fixed) brings a full answer; the failed reply
    stays in the history, as another version of the turn, with its text and its error."""
    app = pilot.app
    chat_pane = pane(app)
    before = stored(app)
    await pilot.press("k")
    assert chat_pane.prompt.text == "k"
    chat_pane.prompt.clear()
    await pilot.press("ctrl+g")
    await answer_ends(pilot)
    after = stored(app)
    failed = next(m for m in after if m.id == failed_id)
    kept = next(m for m in before if m.id == failed_id)
    assert (failed.status, failed.content, failed.error) == (kept.status, kept.content, kept.error)
    assert after[-1].status == "complete" and after[-1].content
    assert after[-1].parent_id == failed.parent_id  # the retry is a sibling of the failed reply
    assert chat_pane.messages.views[-1].versions is not None and chat_pane.messages.views[-1].versions[1] >= 2
    assert [v.message.status for v in chat_pane.messages.views][-1] == "complete"
    assert failed_id not in [v.message.id for v in chat_pane.messages.views]


# ---------------------------------------------------------------------------
# The faults test_conversation.py does not cover


async def test_connection_refused_says_so_and_a_retry_after_fixing_the_address_works(make_app, fake_server):
    app = make_app(model=GOOD)
    async with app.run_test(size=SIZE) as pilot:
        url = closed_port_url()
        await point_at(app, url)
        await send(pilot, "hello")
        await answer_ends(pilot)
        user, answer = stored(app)
        assert user.content == "hello" and user.status == "complete"
        host = url.split("/")[2]
        assert answer.status == "error" and answer.content == ""
        assert answer.error == f"Could not reach {host}. Check your network and the base URL in Settings (f2)."
        assert f"Could not reach {host}. Check your network and the base URL in Settings (f2). ctrl+g retries." in shown(app)
        assert pane(app).status.state == "error"
        await point_at(app, fake_server.base_url)
        await assert_alive_and_retry_works(pilot, answer.id)


async def test_a_stream_that_stalls_times_out_keeps_its_first_words_and_a_retry_works(make_app, fake_server):
    app = make_app(model="test/stall", settings=Settings(read_timeout=0.5))
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "hello")
        await answer_ends(pilot)
        answer = stored(app)[-1]
        first_words = normal_answer("test/stall", [{"role": "user", "content": "hello"}])
        assert answer.status == "error"
        assert answer.content and first_words.startswith(answer.content) and answer.content != first_words
        host = fake_server.base_url.split("/")[2]
        sentence = (f"{host} went silent for 0.5 s in the middle of the answer. "
                    "Retry; for slow models raise the read timeout in Settings (f2).")
        assert answer.error == sentence
        assert sentence in shown(app)
        assert pane(app).messages.views[-1].text == answer.content  # the partial reply, above the error
        pane(app).set_model(GOOD)
        await assert_alive_and_retry_works(pilot, answer.id)


async def test_a_server_that_never_answers_times_out_before_the_answer_began(make_app, fake_server):
    # A listening socket nobody accepts from: the connection is made, the request sent, and then
    # nothing ever comes back.
    with socket.socket() as black_hole:
        black_hole.bind(("127.0.0.1", 0))
        black_hole.listen(8)
        host = "127.0.0.1:%d" % black_hole.getsockname()[1]
        app = make_app(model=GOOD, settings=Settings(read_timeout=0.5))
        async with app.run_test(size=SIZE) as pilot:
            await point_at(app, f"http://{host}/v1")
            await send(pilot, "hello")
            await answer_ends(pilot)
            answer = stored(app)[-1]
            assert answer.status == "error" and answer.content == ""
            assert answer.error.startswith(f"{host} went silent for 0.5 s before the answer began.")
            assert "raise the read timeout in Settings (f2)" in shown(app)
            await point_at(app, fake_server.base_url)
            await assert_alive_and_retry_works(pilot, answer.id)


async def test_rate_limit_shows_how_long_to_wait_and_a_retry_works(make_app):
    app = make_app(model="test/err-429")
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "hello")
        await answer_ends(pilot)
        answer = stored(app)[-1]
        sentence = ("Too many requests: the server is rate-limiting you (429): Rate limit reached for requests per "
                    "min. Please try again in 7s. Wait 7 s, then retry.")
        assert answer.status == "error" and answer.error == sentence
        assert sentence in shown(app)
        assert "error · test/err-429" in shown(app) and "ctrl+g retries" in shown(app)  # the status line
        pane(app).set_model(GOOD)
        await assert_alive_and_retry_works(pilot, answer.id)


@pytest.mark.parametrize(
    ("model", "timeout", "sentence"),
    [
        ("test/err-429", 60.0, "Too many requests: the server is rate-limiting you (429): Rate limit reached"),
        ("test/err-502-html", 60.0, "The server had a problem (502): it answered with an HTML page, not JSON."),
        ("test/stall", 0.5, "went silent for 0.5 s before the answer began."),
    ],
)
async def test_faults_without_streaming_are_sentences_too(make_app, model, timeout, sentence):
    app = make_app(model=model, settings=Settings(stream=False, read_timeout=timeout))
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "hello")
        await answer_ends(pilot)
        answer = stored(app)[-1]
        assert answer.status == "error" and sentence in answer.error
        assert sentence in shown(app)
        pane(app).set_model(GOOD)
        await assert_alive_and_retry_works(pilot, answer.id)


# ---------------------------------------------------------------------------
# Every fault of the matrix, one after the other in one session, each followed by its retry

MATRIX = [
    # (model, what the sentence says, what to do, whether text arrives before the fault)
    ("test/err-401", "Your API key was rejected (401).", "Set it in Settings (f2)", False),
    ("test/err-402", "Your account has run out of credit (402): Insufficient balance", "Top up your balance", False),
    ("test/err-402-balance", "Your balance is too low for this request (402): Insufficient balance: $0.02 left",
     "Top up your balance", False),
    ("test/err-402-expired", "Your subscription has expired (402)", "Renew it", False),
    ("test/err-403-quota", "Your account has run out of credit (403): user quota is not enough.",
     "pick a cheaper model with ctrl+o", False),
    ("test/err-403-cloudflare", "refused this client (403, error code 1010); your key was not checked.",
     "set user_agent in the settings file (or APERTIS_USER_AGENT)", False),
    ("test/err-context", "The conversation is too long for test/err-context (400): This model's maximum context",
     "fork a shorter one from an earlier message (ctrl+up, then f)", False),
    ("test/err-403", "The server refused the request (403)", "Check that your key may use this model.", False),
    ("test/err-404", "Model test/err-404 is not available with your key (404): The model", "Pick another with ctrl+o.",
     False),
    ("test/err-503-model", "Model test/err-503-model is not available with your key (503): No available channel",
     "Pick another with ctrl+o.", False),
    ("test/err-429", "rate-limiting you (429): Rate limit reached", "Wait 7 s, then retry.", False),
    ("test/err-429-empty", "rate-limiting you (429).", "Wait a moment, then retry.", False),
    ("test/err-500", "The server had a problem (500)", "Retry in a moment.", False),
    ("test/err-502-html", "The server had a problem (502): it answered with an HTML page, not JSON.",
     "Retry in a moment.", False),
    ("test/err-400", "The server rejected the request (400)", "Check the model and the parameters", False),
    ("test/cut", "The connection closed in the middle of the answer.", "retry for a full answer.", True),
    ("test/midstream-error", "The answer broke off with an error from the server: Upstream provider overloaded",
     "The text so far is kept.", True),
    ("test/bad-json", "not valid JSON, so words may be missing.", "retry for a full answer.", True),
]


async def test_every_fault_in_a_row_then_a_retry_in_one_session(make_app):
    app = make_app(model=GOOD)
    async with app.run_test(size=SIZE) as pilot:
        for turn, (model, what, todo, partial) in enumerate(MATRIX):
            chat_pane = pane(app)
            chat_pane.set_model(model)
            await send(pilot, f"turn {turn}")
            await answer_ends(pilot)
            answer = stored(app)[-1]
            assert stored(app)[-2].content == f"turn {turn}"  # the prompt is never lost
            assert answer.status == "error" and answer.model == model, model
            assert what in answer.error and todo in answer.error, (model, answer.error)
            view = chat_pane.messages.views[-1]
            assert view.message.id == answer.id and view.message.status == "error"
            assert view.text == answer.content
            assert bool(answer.content) == partial, model  # what arrived is kept
            words = shown(app)
            assert what in words and todo in words and "ctrl+g retries" in words, model
            assert chat_pane.status.state == "error"
            chat_pane.set_model(GOOD)
            await assert_alive_and_retry_works(pilot, answer.id)
        assert app.is_running


# ---------------------------------------------------------------------------
# A history that cannot be written (disk full, a read-only remount, a lock held too long).
# The connection's query_only switch makes SQLite refuse writes exactly as it does then.


def refuse_writes(app, refuse: bool = True) -> None:
    app.store.db.execute(f"PRAGMA query_only={int(refuse)}")


async def test_a_history_that_cannot_be_written_keeps_the_prompt_and_says_why(make_app):
    app = make_app(model=GOOD)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        refuse_writes(app)
        await send(pilot, "my long question")
        await pilot.pause(0.2)
        assert app.is_running
        assert pane(app).prompt.text == "my long question"
        toasts = " ".join(str(t.render()) for t in app.screen.query("Toast"))
        assert "cannot be opened for writing" in " ".join(toasts.split())
        refuse_writes(app, False)
        await pilot.press("enter")  # once it can be written again, the same prompt goes
        await answer_ends(pilot)
        assert [m.status for m in stored(app)] == ["complete", "complete"]


async def test_a_history_that_stops_being_writable_mid_answer_ends_with_a_sentence(make_app, fake_server):
    fake_server.rate = 40
    app = make_app(model=GOOD)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await send(pilot, "hello")
        chat_pane = pane(app)
        await wait_for(pilot, lambda: chat_pane.status.state == "streaming", what="the answer to start")
        refuse_writes(app)
        try:
            await wait_for(pilot, lambda: not chat_pane.is_streaming, what="the answer to end")
            await pilot.pause(0.2)
            full = normal_answer(GOOD, [{"role": "user", "content": "hello"}])
            view = chat_pane.messages.views[-1]
            assert view.text == full  # the answer arrived in full and is on screen
            assert not view.streaming and chat_pane.status.state != "streaming"
            toasts = " ".join(" ".join(str(t.render()).split()) for t in app.screen.query("Toast"))
            assert "cannot be opened for writing" in toasts
            assert app.is_running
        finally:
            refuse_writes(app, False)
