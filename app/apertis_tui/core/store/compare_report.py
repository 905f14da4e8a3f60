"""A chat's comparisons as a Markdown verdict: for every compared turn, each model's time to
first token, tokens per second, tokens, cost and the first lines of its answer, the chosen one
marked. ``apertis-tui compare-report CHAT_ID`` and the palette's "Export comparison…" write it."""

from __future__ import annotations

from pathlib import Path

from ..spend import CostRow, answers_cost_text, cost_text
from ..text import clean, one_line
from ..types import Message
from .export import ExportError, ExportExists, write_export

__all__ = ["ExportError", "ExportExists", "comparison_report", "default_report_path", "tokens_per_second",
           "write_export"]


def tokens_per_second(message: Message) -> float | None:
    """Completion tokens over the time they streamed (after the first token)."""
    if not message.completion_tokens or message.duration_ms is None:
        return None
    streaming = (message.duration_ms - (message.ttft_ms or 0)) / 1000
    return message.completion_tokens / streaming if streaming > 0.05 else None


def _cost_cell(answer: Message) -> str:
    """An answer's own measured cost; "together" when it was measured with others (the sum is
    under the table); "—" when not measured."""
    if answer.cost_usd is None:
        return "—"
    return "together" if answer.cost_group is not None else cost_text(answer.cost_usd)


def _cell(text: str) -> str:
    return one_line(text, 160).replace("|", "\\|") or "—"


def _first_lines(message: Message, lines: int = 2) -> str:
    if message.status == "error" and message.error:
        return f"*{message.error}*"
    text = [line.strip() for line in clean(message.content).splitlines() if line.strip()]
    return " / ".join(text[:lines])


def comparison_report(store, chat_id: int) -> str:
    """The report, or ExportError when the chat does not exist or compared nothing."""
    chat = store.get_chat(chat_id)
    if chat is None:
        raise ExportError(f"There is no chat {chat_id}.")
    comparisons = store.comparisons(chat_id)
    if not comparisons:
        raise ExportError(f"Chat {chat_id} has no comparison: nothing to report.")
    out = [f"# Comparisons in “{one_line(chat.title, 120)}”", ""]
    for number, comparison in enumerate(comparisons, start=1):
        chosen = comparison.leaves.index(comparison.chosen_id) if comparison.chosen_id in comparison.leaves else None
        verdict = f"chosen: **{comparison.models[chosen]}**" if chosen is not None else "not decided yet"
        out += [f"## Comparison {number}: {', '.join(comparison.models)} ({verdict})", "",
                f"*{comparison.created_at}*", ""]
        root = store.get_messages([comparison.root_id]).get(comparison.root_id)
        prompts = [root] + [m for m in store.path_to(comparison.leaves[0])
                            if m.role == "user" and root is not None and m.depth > root.depth]
        for turn, answers in enumerate(store.comparison_turns(comparison)):
            prompt = prompts[turn] if turn < len(prompts) and prompts[turn] is not None else None
            out += [f"### Turn {turn + 1}: {_cell(prompt.content) if prompt else '(prompt not found)'}", "",
                    "| | model | first token | tokens/s | tokens | cost | answer |",
                    "|---|---|---|---|---|---|---|"]
            for column, answer in enumerate(answers):
                mark = "✓" if column == chosen else ""
                if answer is None:
                    out.append(f"| {mark} | {_cell(comparison.models[column])} | | | | | (no answer) |")
                    continue
                rate = tokens_per_second(answer)
                out.append("| {} | {} | {} | {} | {} | {} | {} |".format(
                    mark, _cell(answer.model or comparison.models[column]),
                    f"{answer.ttft_ms / 1000:.2f} s" if answer.ttft_ms is not None else "—",
                    f"{rate:.0f}" if rate else "—",
                    answer.completion_tokens if answer.completion_tokens is not None else "—",
                    _cost_cell(answer),
                    _cell(_first_lines(answer)),
                ))
            together = answers_cost_text([CostRow(a.id, a.cost_usd, a.cost_group, a.cost_replies)
                                          for a in answers if a is not None and a.cost_usd is not None])
            if together:  # a shared cost is said once, whole, never split among the rows
                out += ["", f"Measured cost: {together}."]
            out.append("")
    return "\n".join(out)


def default_report_path(chat_id: int, home: Path | None = None) -> Path:
    """``~/apertis-comparison-<id>.md``."""
    return (home or Path.home()) / f"apertis-comparison-{chat_id}.md"
