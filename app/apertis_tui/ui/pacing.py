"""How often a streaming answer is handled, saved, redrawn and reported: every timing of the
streaming path in one place, each with what it trades.

The figures behind them are in the README's Performance section (``benchmarks/streaming.py``).
"""

# The chat pane's worker (ui/widgets/chat_pane.py)
YIELD_EVERY = 0.008  # seconds of stream handling before the event loop gets a turn (keys, redraws)
STATUS_EVERY = 0.25  # seconds between status-line updates while streaming (each costs a frame)
FLUSH_EVERY = 0.5  # seconds between saves of a streaming answer: about the most a crash can lose

# The message being streamed (ui/widgets/message_view.py)
MIN_FRAME = 1 / 20  # a streamed answer is redrawn at most 20 times a second ...
MAX_FRAME = 0.25  # ... and at least 4 times, however slow its render
RENDER_BUDGET = 0.02  # seconds of Markdown rendering per redraw of a streaming answer
CATCH_UP_BUDGET = 0.03  # ... and once it has all arrived, while rendering is still behind
CATCH_UP_FRAME = 0.004  # seconds between redraws while catching up
COLUMN_REDRAWS = 30  # redraws a second shared by a comparison's columns streaming at once
END_MARGIN = 8  # lines rendered beyond the view's height when its end comes first

# A typed key on its way to the screen goes first (ui/key_first.py)
KEY_FIRST_MAX = 0.1  # seconds at most that streams, redraws and the collector wait for one key
KEY_FIRST_POLL = 0.002  # seconds between a waiting stream's (or redraw's) looks at whether it is shown
