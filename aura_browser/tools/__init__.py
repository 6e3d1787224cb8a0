"""The tools built on `AuraClient` that a command runs and that have no package of their own.

`batch.py` (many prompts, one JSON record each, resumable), `conversation.py` (the `chat` command's model and
`/save`), `demo.py` (the whole flow against the embedded replica). `serve/`, `doctor/`, `gpt4free/` and `testing/`
are the tools of this layer that have packages of their own.
"""
