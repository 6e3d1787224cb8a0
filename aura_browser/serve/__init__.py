"""`aura-browser serve`: an OpenAI-compatible HTTP API over one `AuraClient`.

- `api`: the routes (`/v1/chat/completions`, `/v1/models`) and their replies.
- `guard`: who may call it (Host, Origin and Content-Type checks, the optional API key).
"""
