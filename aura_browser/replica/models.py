"""The models the replica's deployment knows: only OpenChat 3.6."""

from __future__ import annotations

DEFAULT_MODEL = {"id": "openchat_3.6", "name": "OpenChat 3.6 (latest)"}
MODELS = [DEFAULT_MODEL]
