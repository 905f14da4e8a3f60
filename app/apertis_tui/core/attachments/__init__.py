"""Attachments: what a path the user names becomes in a request. No Textual here.

One job per module (this package imports none of them itself: the settings load ``limits`` at
start-up, the rest waits for the first attachment):

- ``limits``: the settings' limits on images and texts;
- ``model``: a prepared ``Attachment`` (its bytes and what it is), the error every refusal
  raises (a sentence), sizes and descriptions as people read them;
- ``prepare``: a path -> an attachment (which kind it is; runs in a thread, never on the loop);
- ``images``: scaling and re-encoding with Pillow (imported on first use only);
- ``texts``: text or binary, decoding, the fenced block a text file is sent as;
- ``folders``: a folder's tree and its text files, honouring ``.gitignore`` (``pathspec``);
- ``mentions``: ``@path`` in the prompt, pasted or dropped paths, completion candidates;
- ``sending``: a stored user message and its attachments -> OpenAI content parts, and the
  400 of a model that takes no images;
- ``preview``: the escape sequences that show an image in kitty, iTerm2 and WezTerm.
"""
