"""The model list and the user's model preferences, and the picker's ranking. No Textual.

- The list from ``GET /v1/models`` is cached per base URL in ``cache_dir()/models-<hash>.json``
  with the time it was fetched, so the picker opens at once and still works offline.
- Favourites and recently used ids live in ``data_dir()/model-prefs.json`` (user data, not
  settings: the settings file is the user's to edit, and is never rewritten on a key press).
- ``rank`` orders models for a typed filter: an exact id first, then favourites, recently used,
  and the rest; inside each group the best fuzzy match first. The word "free" in the filter
  keeps only the free models (ids ending in ``:free``). The fuzzy scorer is passed in (the UI
  uses ``textual.fuzzy``), which keeps this module free of Textual.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .atomic import atomic_write
from .paths import cache_dir, data_dir
from .text import one_line
from .events import ModelInfo
from .types import ApiError

CACHE_MAX_AGE = 24 * 3600  # seconds; older lists are refreshed in the background
RECENT_LIMIT = 12
_CACHE_VERSION = 1
_ID_LIMIT = 200  # longer "ids" in a file are not ids


# ---------------------------------------------------------------------------
# The cached list


@dataclass(frozen=True)
class ModelList:
    """The models one server offers, and when the list was fetched (epoch seconds)."""

    base_url: str
    models: tuple[ModelInfo, ...]
    fetched_at: float

    def age(self, now: float | None = None) -> float:
        return max(0.0, (time.time() if now is None else now) - self.fetched_at)

    def is_stale(self, now: float | None = None, max_age: float = CACHE_MAX_AGE) -> bool:
        return self.age(now) > max_age

    @property
    def ids(self) -> list[str]:
        return [m.id for m in self.models]


def cache_path(base_url: str, folder: Path | None = None) -> Path:
    """One file per server: a LiteLLM proxy and Apertis offer different models."""
    digest = hashlib.sha256(base_url.encode("utf-8")).hexdigest()[:12]
    return (folder or cache_dir()) / f"models-{digest}.json"


def _clean_id(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    text = one_line(value, _ID_LIMIT + 1).strip()
    return text if text and len(text) <= _ID_LIMIT else None


def load_cache(base_url: str, folder: Path | None = None) -> ModelList | None:
    """The cached list for ``base_url``; None when there is none or it cannot be read
    (a damaged cache is only a slower start: the next fetch rewrites it)."""
    try:
        data = json.loads(cache_path(base_url, folder).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("version") != _CACHE_VERSION:
        return None
    fetched_at = data.get("fetched_at")
    items = data.get("models")
    if not isinstance(fetched_at, (int, float)) or isinstance(fetched_at, bool) or not isinstance(items, list):
        return None
    models: dict[str, ModelInfo] = {}
    for item in items:
        if not isinstance(item, dict) or (model_id := _clean_id(item.get("id"))) is None:
            continue
        owner = item.get("owned_by")
        created = item.get("created")
        models.setdefault(model_id, ModelInfo(
            id=model_id,
            owned_by=one_line(owner, 40) if isinstance(owner, str) else "",
            created=created if isinstance(created, int) and not isinstance(created, bool) else None,
        ))
    return ModelList(base_url, tuple(models.values()), float(fetched_at))


def save_cache(base_url: str, models: Iterable[ModelInfo], *, fetched_at: float | None = None,
               folder: Path | None = None) -> ModelList:
    """Write the list (atomically) and return it. A cache that cannot be written is skipped:
    the list is still returned, the picker just starts from the network next time."""
    listing = ModelList(base_url, tuple(models), time.time() if fetched_at is None else fetched_at)
    document = {
        "version": _CACHE_VERSION,
        "base_url": base_url,
        "fetched_at": listing.fetched_at,
        "models": [{"id": m.id, "owned_by": m.owned_by, "created": m.created} for m in listing.models],
    }
    path = cache_path(base_url, folder)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, json.dumps(document, ensure_ascii=False).encode("utf-8"))
    except OSError:
        pass
    return listing


async def fetch_models(client: Any, base_url: str, *, folder: Path | None = None) -> ModelList:
    """Ask the server for its models and cache them. Raises :class:`ApiError`."""
    models = await client.list_models()
    return save_cache(base_url, models, folder=folder)


def is_offline(error: ApiError) -> bool:
    """Whether the error means the server could not be reached (rather than refused)."""
    return error.kind in {"connect", "timeout"}


def ago(seconds: float) -> str:
    """``5 minutes ago``: how old a list is, in words."""
    seconds = max(0, int(seconds))
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'} ago"
    return "just now"


# ---------------------------------------------------------------------------
# Favourites and recently used


def prefs_path(folder: Path | None = None) -> Path:
    return (folder or data_dir()) / "model-prefs.json"


def _id_list(value: Any, limit: int | None = None) -> list[str]:
    out: list[str] = []
    if isinstance(value, list):
        for item in value:
            model_id = _clean_id(item)
            if model_id is not None and model_id not in out:
                out.append(model_id)
    return out[:limit] if limit is not None else out


@dataclass
class ModelPrefs:
    """Favourite model ids (in the order they were starred) and recently used ones (newest first)."""

    path: Path
    favourites: list[str] = field(default_factory=list)
    recents: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path | None = None) -> ModelPrefs:
        """The saved preferences; empty ones when the file is missing or unreadable."""
        path = path or prefs_path()
        try:
            data = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError):
            data = {}
        if not isinstance(data, dict):
            data = {}
        return cls(path, _id_list(data.get("favourites")), _id_list(data.get("recents"), RECENT_LIMIT))

    def save(self) -> bool:
        """Write the file atomically. False when it could not be written (the choice still
        holds for this session)."""
        document = {"favourites": self.favourites, "recents": self.recents[:RECENT_LIMIT]}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(self.path, json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8"))
        except OSError:
            return False
        return True

    def is_favourite(self, model_id: str) -> bool:
        return model_id in self.favourites

    def toggle_favourite(self, model_id: str) -> bool:
        """Star or unstar ``model_id``; True when it is now a favourite."""
        if model_id in self.favourites:
            self.favourites.remove(model_id)
            return False
        self.favourites.append(model_id)
        return True

    def used(self, model_id: str) -> None:
        """``model_id`` was just chosen: it goes to the front of the recents."""
        if model_id in self.recents:
            self.recents.remove(model_id)
        self.recents.insert(0, model_id)
        del self.recents[RECENT_LIMIT:]


def record_used(model_id: str, path: Path | None = None) -> None:
    """Load, mark ``model_id`` as just used, save (another window may have changed the file)."""
    prefs = ModelPrefs.load(path)
    prefs.used(model_id)
    prefs.save()


# ---------------------------------------------------------------------------
# Ranking for the picker

#: (query, candidate) -> (score, offsets of the matched characters); score 0 means no match.
MatchFunction = Callable[[str, str], tuple[float, Sequence[int]]]

EXACT, FAVOURITE, RECENT, OTHER, TYPED = range(5)


@dataclass(frozen=True)
class Ranked:
    """One row of the picker. ``offsets`` are the matched characters of ``id``."""

    id: str
    owner: str
    group: int  # EXACT, FAVOURITE, RECENT, OTHER or TYPED ("use as typed")
    score: float = 0.0
    offsets: tuple[int, ...] = ()
    favourite: bool = False
    recent: bool = False


FREE_SUFFIX = ":free"  # Apertis's free models


def is_free(model_id: str) -> bool:
    return model_id.lower().endswith(FREE_SUFFIX)


def free_query(query: str) -> str | None:
    """When the filter asks for free models (it has the word "free"), the rest of it, joined
    (model ids have no spaces): "free llama" -> "llama", "free" -> "". Else None."""
    words = query.split()
    if not any(word.lower() == "free" for word in words):
        return None
    return "".join(word for word in words if word.lower() != "free")


def typed_id(query: str) -> str | None:
    """The filter text as a model id to use as typed (one line, no spaces around)."""
    return _clean_id(query)


def rank(
    models: Sequence[ModelInfo],
    query: str,
    match: MatchFunction,
    favourites: Sequence[str] = (),
    recents: Sequence[str] = (),
) -> list[Ranked]:
    """The rows the picker shows for ``query``.

    With no query: favourites (in starring order), recently used (newest first), then every
    other model by id. With one: only matching models; an id equal to the query (ignoring case)
    first, then favourites, recents and the rest, best match first in each; and last, when no id
    is exactly the query, an entry to use the query as typed. Favourites and recents that the
    server does not list (custom or offline) are shown too, with no owner.

    The word "free" keeps only the free models (ids ending in ``:free``), the rest of the query
    matched as usual; a fuzzy "free" alone would also find ids that merely have f, r, e, e in
    that order. The rows then show their ``:free`` matched, and none offers the query as typed.
    """
    query = query.strip()
    rest = free_query(query)
    if rest is not None:
        return _rank_free(models, rest, match, favourites, recents)
    owners: dict[str, str] = {}
    for model in models:
        owners.setdefault(model.id, model.owned_by)
    favourite_set = set(favourites)
    recent_order = {model_id: n for n, model_id in enumerate(recents)}
    candidates = list(dict.fromkeys([*favourites, *recents, *owners]))

    def group_of(model_id: str) -> int:
        if model_id in favourite_set:
            return FAVOURITE
        return RECENT if model_id in recent_order else OTHER

    rows: list[Ranked] = []
    if not query:
        for model_id in candidates:
            rows.append(Ranked(model_id, owners.get(model_id, ""), group_of(model_id),
                               favourite=model_id in favourite_set, recent=model_id in recent_order))
        favourite_order = {model_id: n for n, model_id in enumerate(favourites)}
        rows.sort(key=lambda r: (r.group, favourite_order.get(r.id, 0), recent_order.get(r.id, 0)
                                 if r.group == RECENT else 0, r.id.lower(), r.id))
        return rows

    folded = query.lower()
    for model_id in candidates:
        score, offsets = match(query, model_id)
        if score <= 0:
            continue
        group = group_of(model_id)
        if model_id.lower() == folded:
            group = EXACT
        rows.append(Ranked(model_id, owners.get(model_id, ""), group, score, tuple(offsets),
                           favourite=model_id in favourite_set, recent=model_id in recent_order))
    rows.sort(key=lambda r: (r.group, -r.score, len(r.id), r.id))
    typed = typed_id(query)
    if typed is not None and typed not in owners and typed not in favourite_set and typed not in recent_order:
        rows.append(Ranked(typed, "", TYPED))
    return rows


def _rank_free(models: Sequence[ModelInfo], rest: str, match: MatchFunction, favourites: Sequence[str],
               recents: Sequence[str]) -> list[Ranked]:
    """``rank`` for a query with the word "free": the free models, matched on ``rest``; the
    "free" at the end of each id is shown matched too."""
    rows = rank([model for model in models if is_free(model.id)], rest, match,
                [f for f in favourites if is_free(f)], [r for r in recents if is_free(r)])
    return [replace(row, offsets=tuple(sorted({*row.offsets, *_free_offsets(row.id)})))
            for row in rows if row.group != TYPED]


def _free_offsets(model_id: str) -> range:
    """Where "free" is in an id ending in ":free" (the colon left out)."""
    return range(len(model_id) - len(FREE_SUFFIX) + 1, len(model_id))
