"""The gpt4free-compatible face: the `Aura` provider, with gpt4free's names.

- `provider`: `Aura` and `get_args_from_browser`, on aura-browser's own small provider base.
- `base`: that base, `AsyncGeneratorProvider` (a sync `create_completion` over the async generator).
- `typing`: `Messages` and the other type names, as `g4f.typing` names them.
- `plugin`: `Aura` as a subclass of gpt4free's own provider base, for gpt4free's client (needs the `g4f` extra).

Their documented import paths are the top-level ones: `aura_browser.Aura`, `aura_browser.typing`,
`aura_browser.providers` and `aura_browser.g4f`.
"""
