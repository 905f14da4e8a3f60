"""apertis-tui: a keyboard-driven terminal chat client for Apertis AI."""

__version__ = "0.1.0"
APP_NAME = "apertis-tui"
