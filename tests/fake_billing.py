"""The fake server's bill: Apertis's ``GET /v1/token/usage``, and what each answer costs.

Every answer the fake server finishes is booked at a fixed price per token, by model (see
``price``): ``:free`` models cost 0, errors are not booked. Switches, for tests:

- ``book_late_ms``: an answer is booked that long after it ended (the service may book late);
- ``mode``: "ok" (the endpoint as Apertis has it), "none" (404: a server without it) or
  "wrong" (200, a body of another shape).

Standard library only; thread-safe (the server answers on threads).
"""

from __future__ import annotations

import threading
from typing import Any

__all__ = ["Ledger", "price", "PRICES"]

#: USD per million (prompt, completion) tokens. An id is priced by the first prefix it has;
#: anything else by DEFAULT_PRICE.
PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "test/long": (1.00, 2.00),
}
DEFAULT_PRICE = (3.00, 15.00)


def price(model: str, prompt_tokens: int, completion_tokens: int) -> float:
    """What an answer costs here, in USD (0 for a ``:free`` model)."""
    if model.endswith(":free"):
        return 0.0
    per_prompt, per_completion = next((p for prefix, p in PRICES.items() if model.startswith(prefix)), DEFAULT_PRICE)
    return (prompt_tokens * per_prompt + completion_tokens * per_completion) / 1_000_000


class Ledger:
    """The key's account: total, used, tokens and requests."""

    def __init__(self, total_usd: float = 20.0, used_usd: float = 0.0, token_name: str = "fake-key") -> None:
        self.total_usd = total_usd
        self.used_usd = used_usd
        self.token_name = token_name
        self.tokens = 0
        self.requests = 0
        self.mode = "ok"  # "ok", "none" (404) or "wrong" (another shape)
        self.book_late_ms = 0
        self.asked = 0  # usage requests answered
        self._lock = threading.Lock()
        self._timers: list[threading.Timer] = []

    def book(self, model: str, prompt_tokens: int, completion_tokens: int) -> None:
        """An answer ended: book it now, or ``book_late_ms`` later."""
        cost = price(model, prompt_tokens, completion_tokens)

        def now() -> None:
            with self._lock:
                self.used_usd += cost
                self.tokens += prompt_tokens + completion_tokens
                self.requests += 1

        if self.book_late_ms <= 0:
            now()
            return
        timer = threading.Timer(self.book_late_ms / 1000, now)
        timer.daemon = True
        with self._lock:
            self._timers.append(timer)
        timer.start()

    def answer(self) -> tuple[int, Any]:
        """(status, JSON body) for ``GET /v1/token/usage``."""
        with self._lock:
            self.asked += 1
            if self.mode == "none":
                return 404, {"error": {"message": "Invalid URL (GET /v1/token/usage)", "type": "invalid_request_error",
                                       "param": None, "code": None}}
            if self.mode == "wrong":
                return 200, {"success": True, "data": {"quota": 12345, "name": self.token_name}}
            used = round(self.used_usd, 9)
            return 200, {"data": {
                "token_name": self.token_name,
                "total_quota_usd": self.total_usd,
                "remain_quota_usd": round(self.total_usd - used, 9),
                "used_quota_usd": used,
                "total_tokens": self.tokens,
                "total_requests": self.requests,
            }}

    def stop(self) -> None:
        """Book nothing more (late bookings pending are dropped)."""
        with self._lock:
            timers, self._timers = self._timers, []
        for timer in timers:
            timer.cancel()
