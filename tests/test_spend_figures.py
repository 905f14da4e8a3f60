"""Money figures without the app: the /token/usage body and the client's reading of it, how
costs are written, the 402 sentence, and the sums the history and the export give (each group
of overlapping requests once, whole)."""

from __future__ import annotations

import pytest

from apertis_tui.core.api import ApertisClient
from apertis_tui.core.spend import (CostRow, TokenUsage, answers_cost_text, cost_text, read_token_usage,
                                    reply_cost_text, spent, usd, with_balance)
from apertis_tui.core.store import History
from apertis_tui.core.types import ApiError

GOOD = {"data": {"token_name": "work", "total_quota_usd": 20, "remain_quota_usd": 8.42, "used_quota_usd": 11.58,
                 "total_tokens": 1234, "total_requests": 7}}


def test_the_documented_body_is_read_and_other_shapes_are_not():
    usage = read_token_usage(GOOD)
    assert usage == TokenUsage(used_usd=11.58, remain_usd=8.42, total_usd=20.0, total_tokens=1234,
                               total_requests=7, token_name="work")
    # Numbers as strings (some gateways), optional figures missing.
    assert read_token_usage({"data": {"used_quota_usd": "1.5", "remain_quota_usd": "2"}}) == TokenUsage(1.5, 2.0)
    for other in (None, [], "x", {"data": []}, {"object": "list", "data": [{"id": "gpt-4o"}]},
                  {"data": {"quota": 5}}, {"data": {"used_quota_usd": 1}},
                  {"data": {"used_quota_usd": True, "remain_quota_usd": 1}},
                  {"data": {"used_quota_usd": float("nan"), "remain_quota_usd": 1}}):
        assert read_token_usage(other) is None, other
    # The name the service gives the key is text from outside: no escapes, one line.
    hostile = read_token_usage({"data": {**GOOD["data"], "token_name": "a\x1b]0;pwned\x07\nb[bold]"}})
    assert "\x1b" not in hostile.token_name and "\n" not in hostile.token_name


async def test_the_client_asks_with_the_key_and_knows_a_server_without_the_endpoint(fake_server):
    client = ApertisClient(fake_server.base_url, "test-key")
    try:
        fake_server.billing.used_usd = 2.5
        usage = await client.token_usage()
        assert (usage.used_usd, usage.remain_usd, usage.total_usd) == (2.5, 17.5, 20.0)
        request = fake_server.requests[-1]
        assert request["path"] == "/v1/token/usage" and request["headers"]["authorization"] == "Bearer test-key"
        fake_server.billing.mode = "none"
        assert await client.token_usage() is None
        fake_server.billing.mode = "wrong"
        assert await client.token_usage() is None
    finally:
        await client.aclose()
    wrong = ApertisClient(fake_server.base_url, "sk-wrong-key-1234567890")
    try:
        with pytest.raises(ApiError) as raised:
            await wrong.token_usage()
        assert raised.value.kind == "auth" and "sk-wrong-key-1234567890" not in raised.value.sentence
    finally:
        await wrong.aclose()
    unreachable = ApertisClient("http://127.0.0.1:9/v1", "test-key")
    try:
        with pytest.raises(ApiError) as raised:
            await unreachable.token_usage()
        assert raised.value.kind == "connect"
    finally:
        await unreachable.aclose()
    with pytest.raises(ApiError):
        await ApertisClient(fake_server.base_url, None).token_usage()


def test_money_is_written_to_the_cent_or_closer_for_small_costs():
    assert usd(8.4249) == "$8.42" and usd(1234.5) == "$1,234.50" and usd(-0.5) == "-$0.50"
    assert cost_text(0) == "$0" and cost_text(0.00003) == "<$0.0001" and cost_text(0.000373) == "$0.0004"
    assert cost_text(0.5) == "$0.5000" and cost_text(12.3456) == "$12.35"
    assert reply_cost_text(None, None) == "" and reply_cost_text(0.002, 1) == "$0.0020"
    assert reply_cost_text(0.006, 3) == "$0.0060 for 3 replies"


def test_a_quota_error_says_what_the_last_reading_left():
    error = ApiError("quota", "Your balance is too low for this request (402): Insufficient balance.",
                     "Top up your balance.", status=402)
    said = with_balance(error, TokenUsage(used_usd=19.98, remain_usd=0.02), "2 min ago")
    assert said.sentence == ("Your balance is too low for this request (402): Insufficient balance. The last check "
                             "(2 min ago) said $0.02 was left. Top up your balance.")
    assert said.status == 402 and said.kind == "quota"
    assert with_balance(error, None, "now") is error  # nothing known: nothing said
    other = ApiError("server", "The server had a problem (500).")
    assert with_balance(other, TokenUsage(1, 2), "now") is other


def test_sums_count_a_group_once_whole_and_say_when_it_also_paid_for_others():
    alone = CostRow(1, 0.001, None, 1)
    group = [CostRow(2, 0.006, 2, 3), CostRow(3, 0.006, 2, 3), CostRow(4, 0.006, 2, 3)]
    assert spent([]) is None
    assert spent([alone, *group]) == (0.007, 4, False)
    partly = spent([alone, *group[:2]])  # the third reply of the group is in another chat
    assert partly == (0.007, 3, True) and partly.text() == "≤ $0.0070"
    assert answers_cost_text(group) == "these 3 answers cost $0.0060 together"
    assert answers_cost_text(group[:2]) == "these 2 answers and 1 other reply cost $0.0060 together"
    assert answers_cost_text([alone]) == "this answer cost $0.0010"
    assert answers_cost_text([]) == ""


def test_costs_are_stored_with_their_replies_and_summed_per_chat(tmp_path):
    store = History(tmp_path / "h.db")
    try:
        chats, replies = [], []
        for title in ("one", "two"):
            chat = store.create_chat("gpt-4o", title=title)
            question = store.add_message(chat.id, "user", "q")
            chats.append(chat.id)
            for _ in range(2):
                reply = store.start_assistant(chat.id, "gpt-4o", parent_id=question.id)
                store.finish_message(reply.id, content="a", status="complete")
                replies.append(reply.id)
        store.set_cost([replies[0]], 0.25, None)
        store.set_cost([replies[1], replies[2]], 0.5, replies[1])  # two chats streaming at once
        first = store.get_messages([replies[1]])[replies[1]]
        assert (first.cost_usd, first.cost_group, first.cost_replies) == (0.5, replies[1], 2)
        sums = store.chat_spending(chats)
        assert sums[chats[0]] == (0.75, 2, True) and sums[chats[1]] == (0.5, 1, True)
        assert store.chat_spending([9999]) == {}
        [summary] = [s for s in store.chat_page() if s.chat.id == chats[0]]
        assert summary.spent == sums[chats[0]]
        whole = store.spending_since("2000-01-01T00:00:00.000Z")
        assert whole == (0.75, 3, False)  # over the whole history the shared group counts once
        assert store.spending_since("2999-01-01T00:00:00.000Z") is None
        store.delete_chat(chats[1])  # the group's other reply is gone: chat one still says "at most"
        assert store.chat_spending(chats) == {chats[0]: (0.75, 2, True)}
    finally:
        store.close()


def test_warn_below_usd_in_the_settings_file(tmp_path):
    from apertis_tui.core.settings.file import ConfigError, Settings, load_settings, save_settings

    path = tmp_path / "config.toml"
    path.write_text('theme = "nord"\nwarn_below_usd = 2\n')
    settings = load_settings(path)
    assert settings.warn_below_usd == 2.0 and "warn_below_usd" not in settings.extra
    save_settings(Settings(warn_below_usd=0.5), path)
    assert load_settings(path).warn_below_usd == 0.5 and "warn_below_usd = 0.5" in path.read_text()
    save_settings(Settings(), path)
    assert "warn_below_usd" not in path.read_text()  # never: not written
    for bad in ("-1", '"five"', "true"):
        path.write_text(f'stream = true\nwarn_below_usd = {bad}\n')
        with pytest.raises(ConfigError) as raised:
            load_settings(path)
        assert "warn_below_usd must be an amount in US dollars, 0 or more" in str(raised.value)
        assert "(line 2)" in str(raised.value)
