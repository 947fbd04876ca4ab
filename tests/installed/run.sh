#!/usr/bin/env bash
# Build the wheel, install it with NO extras in a fresh venv and run tests/installed there, outside the repository:
# what a user of `pip install pytest-runcommand` gets. Extra arguments go to pytest. Called by .ci/run.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
python="${PYTHON:-python3}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

"$python" -m pip wheel --quiet --no-deps "$repo" -w "$work/wheel"
"$python" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet "$work"/wheel/pytest_runcommand-*.whl

suite="$work/suite"
mkdir -p "$suite/replay/examples" "$suite/replay/cassettes"
cp "$repo"/tests/installed/*.py "$suite/"
cp "$repo/examples/test_example_record_replay_httpx.py" "$suite/replay/examples/"
cp -R "$repo/cassettes/test_example_record_replay_httpx" "$suite/replay/cassettes/"
cp -R "$repo/examples/payloads" "$suite/payloads"

cd "$suite"
"$work/venv/bin/python" -m pytest -p no:cacheprovider "$@"
