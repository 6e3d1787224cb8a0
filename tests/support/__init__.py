"""What the tests share besides fixtures (those are in tests/conftest.py), one module per concept.

- `cli`: running `aura-browser` as a subprocess, and how the run ended.
- `processes`: this run's Chromium, a process's descendants, zombies, leftovers.
- `drivers`: running a test over both browser drivers; the virtual display they need.
- `detectors`: the public bot detectors and their verdict on a browser.
- `profiles`: saved profiles for a replica without a gate. `replies`: what the replica answers.
- `botcheck`: what the replica's botcheck gate saw. `shipped_suites`: the pytest suites users run.
- `servers`: real servers on loopback that the tests talk to.
"""
