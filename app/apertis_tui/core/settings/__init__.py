"""The settings, one job per module (this package imports none of them itself):

- ``validation``: what each setting may hold (defaults, ranges) and the checks, as sentences;
- ``file``: the ``Settings`` dataclass and its TOML file: loading, saving, ``ConfigError``;
- ``resolve``: which value applies, flag over environment over file over default, with its source.

Where the files live is ``core.paths``; how a setting looks in a form field is ``ui.form_text``.
"""
