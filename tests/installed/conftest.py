"""The suite run from the built wheel in a fresh venv with no extras, outside the repository (see .ci/run).

``run.sh`` (called by ``.ci/run``) builds the wheel, installs it in a fresh venv, copies this folder to a temporary directory together with ``replay/`` (a committed cassette and its
test, copied from ``examples/`` and ``cassettes/``) and ``payloads/``, then runs ``python -m pytest -p
no:cacheprovider`` there with the fresh venv's Python. In the development suite it is not collected (pyproject's
``--ignore=tests/installed``): there the package comes from the checkout, with every extra.
"""

from __future__ import annotations

pytest_plugins = ["pytester"]

collect_ignore = ["replay", "run.sh"]
