"""How a stored time reads to a person: "5 min ago", "14:05", "2025-03-04 14:05".

The store writes UTC as ISO-8601 text (``store.now_iso``); everything that shows a time (the
history screen, a message's label, ``apertis-tui history``) reads it back through these
functions, in local time. No Textual here: the command line uses them too.

Tests freeze the clock by replacing ``datetime`` in this module (see tests/frozen.py), so the
current time is only ever read through it.
"""

from __future__ import annotations

from datetime import datetime, timezone


def utc_now() -> datetime:
    """Now, in UTC: the moment a batch of ``relative_time`` calls is measured from."""
    return datetime.now(timezone.utc)


def parse_time(iso: str | None) -> datetime | None:
    """A stored stamp as an aware datetime (one without a zone is UTC, as the store writes
    them), or None if it is not a time."""
    if not iso:
        return None
    try:
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def relative_time(iso: str, now: datetime | None = None) -> str:
    """"just now", "5 min ago", "3 h ago", "yesterday", "4 days ago", "Mar 5", "2023-03-05"."""
    moment = parse_time(iso)
    if moment is None:
        return ""
    now = now or utc_now()
    seconds = (now - moment).total_seconds()
    local, local_now = moment.astimezone(), now.astimezone()
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    days = (local_now.date() - local.date()).days
    if days == 0:
        return f"{int(seconds // 3600)} h ago"
    if days == 1:
        return "yesterday"
    if days < 7:
        return f"{days} days ago"
    if local.year == local_now.year:
        return f"{local:%b} {local.day}"
    return f"{local:%Y-%m-%d}"


def message_time(iso: str | None) -> str:
    """``HH:MM`` in local time for today's messages, else ``YYYY-MM-DD HH:MM``; "" if no time."""
    moment = parse_time(iso)
    if moment is None:
        return ""
    local = moment.astimezone()
    if local.date() == datetime.now().astimezone().date():
        return f"{local:%H:%M}"
    return f"{local:%Y-%m-%d %H:%M}"


def local_stamp(iso: str) -> str:
    """``YYYY-MM-DD HH:MM`` in local time (a table's column); text that is not a time as it is."""
    moment = parse_time(iso)
    return iso if moment is None else f"{moment.astimezone():%Y-%m-%d %H:%M}"
