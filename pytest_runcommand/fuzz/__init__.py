"""Fuzzing with schemathesis: one module per job (importing this package imports none of them).

- :mod:`~pytest_runcommand.fuzz.targets`: where requests go; the one resolver of the command line and the pytest
  route (parse once, literal loopback only, live opt-in, https, scope, token, proxies);
- :mod:`~pytest_runcommand.fuzz.live`: the live scope and the guard (scope, budget, pace, what was created);
- :mod:`~pytest_runcommand.fuzz.session`: the session every request of a URL target goes through (guarded);
- :mod:`~pytest_runcommand.fuzz.settings`: what a run generates; :mod:`~pytest_runcommand.fuzz.schema`: the
  schemathesis schema of an api-version's contract with the generation overlays;
- :mod:`~pytest_runcommand.fuzz.checks`: this API's checks; :mod:`~pytest_runcommand.fuzz.runner` and
  :mod:`~pytest_runcommand.fuzz.stateful`: generate, send, check; :mod:`~pytest_runcommand.fuzz.cleanup`: delete
  what a live run created;
- :mod:`~pytest_runcommand.fuzz.findings`, :mod:`~pytest_runcommand.fuzz.redact`,
  :mod:`~pytest_runcommand.fuzz.junit`, :mod:`~pytest_runcommand.fuzz.progress`,
  :mod:`~pytest_runcommand.fuzz.baseline`: what a run reports, with secrets masked;
- :mod:`~pytest_runcommand.fuzz.command`: ``pytest-runcommand fuzz``; :mod:`~pytest_runcommand.fuzz.inprocess`:
  the lean path to an in-process ASGI app.
"""
