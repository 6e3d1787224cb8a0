"""`aura-browser doctor` and the smoke suite's checks: what works now, and how to fix what does not.

- `probe`: asks a site the questions (is it up, is it this app, does each transport get through).
- `diagnosis`: the whole table `doctor` prints, from the machine's browsers to each transport.
- `problems`: the named problems, each with the one-line fix that is printed.
- `stealth`: `doctor --stealth`, the bot checks run in the browser the drivers start.
"""
