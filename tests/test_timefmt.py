"""core/timefmt and core/text.snippet_spans: the shared helpers the history screen, the message
labels and `apertis-tui history` read times and search snippets through."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from apertis_tui.core import timefmt
from apertis_tui.core.text import snippet_spans
from apertis_tui.core.types import HIGHLIGHT_END, HIGHLIGHT_START


def test_stored_times_read_as_local_times(monkeypatch) -> None:
    monkeypatch.setenv("TZ", "UTC")
    import time

    time.tzset()
    try:
        now = datetime.now(timezone.utc)
        today = now.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        assert timefmt.message_time(today) == f"{now:%H:%M}"
        assert timefmt.message_time("2024-03-04T05:06:07.000Z") == "2024-03-04 05:06"
        assert timefmt.message_time(None) == timefmt.message_time("nonsense") == ""
        assert timefmt.local_stamp("2024-03-04T05:06:07.000Z") == "2024-03-04 05:06"
        assert timefmt.local_stamp("nonsense") == "nonsense"  # a table shows what is there
        assert timefmt.relative_time((now - timedelta(hours=3)).isoformat(), now) in {"3 h ago", "yesterday"}
    finally:
        monkeypatch.undo()
        time.tzset()


def test_snippet_spans_clean_each_piece_and_mark_the_matches() -> None:
    snippet = f"…a\x1b]52;c;x\x07 {HIGHLIGHT_START}needle{HIGHLIGHT_END}\n\nrest…"
    assert snippet_spans(snippet) == [("…a]52;c;x ", False), ("needle", True), (" rest…", False)]
