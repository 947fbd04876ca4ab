#!/usr/bin/env bash
# Contract CI for a project that automates Azure VM Run Commands, with pytest-runcommand:
#   1. check the committed cassettes offline (contract + secret scan);
#   2. run the test suite with the network blocked: cassettes replay (record mode none), every run-command
#      exchange of a test marked runcommand_contract is validated, and the coverage report is written;
#   3. fuzz the emulator (or RUNCOMMAND_FUZZ_TARGET) with schemathesis and this API's checks, in
#      RUNCOMMAND_FUZZ_SHARDS shards (each a CI job's share of the campaign; here run one after the other),
#      then merge the shards' JSON and JUnit reports into one (pytest-runcommand report merge).
# Every step runs even when an earlier one fails, so that all reports are written; the exit code is the first
# failure's. Copy this file (and github-workflow.yml) into your repository; pytest-runcommand's own .ci/run calls it.
#
# Settings (environment):
#   RUNCOMMAND_TESTS           test paths for step 2 (default: the testpaths of your pytest configuration)
#   RUNCOMMAND_CASSETTES       cassette folder for step 1 (default: cassettes; skipped when absent)
#   RUNCOMMAND_REPORTS         where reports go (default: reports)
#   RUNCOMMAND_FUZZ_TARGET     'emulator' (default) or a base URL
#   RUNCOMMAND_FUZZ_EXAMPLES   cases per operation and mode (default: 25)
#   RUNCOMMAND_FUZZ_SHARDS     shards of the fuzz campaign (default: 2); the union is the whole campaign
#   RUNCOMMAND_FUZZ_SHARD      K/N: run only shard K of N and skip the merge (one job of a CI matrix)
#   RUNCOMMAND_FUZZ_WORKERS    worker processes per shard (default: auto, one per core)
# Needs: pip install "pytest-runcommand[fuzz]" (step 3) and your own test dependencies.
set -uo pipefail

tests=${RUNCOMMAND_TESTS:-}
cassettes=${RUNCOMMAND_CASSETTES:-cassettes}
reports=${RUNCOMMAND_REPORTS:-reports}
mkdir -p "$reports"
status=0

step() {  # step NAME FUNCTION: run it, keep the first failure's exit code, go on
    if [ -n "${GITHUB_ACTIONS:-}" ]; then echo "::group::$1"; else echo "== contract-ci: $1" >&2; fi
    "$2"
    local code=$?
    if [ -n "${GITHUB_ACTIONS:-}" ]; then echo "::endgroup::"; fi
    if [ "$code" -ne 0 ]; then
        echo "contract-ci: $1 failed (exit $code)" >&2
        if [ "$status" -eq 0 ]; then status=$code; fi
    fi
}

# 1. Committed cassettes: every run-command interaction conforms, no secret on disk (exit 1 findings, 2 unreadable).
#    The same findings as SARIF, for code scanning (a leaked secret shows at its file and line).
check_cassettes() {
    pytest-runcommand cassettes check --format sarif "$cassettes" > "$reports/cassettes.sarif"
    pytest-runcommand cassettes check "$cassettes" | tee "$reports/cassettes.txt"
}

# 2. The contract suite, cassettes replayed with the network blocked (loopback stays open for the emulator).
contract_suite() {
    # shellcheck disable=SC2086  # RUNCOMMAND_TESTS may name several paths
    python -m pytest $tests -p no:cacheprovider --record-mode=none --block-network \
        --runcommand-report "$reports/contract.json" --junitxml "$reports/junit.xml"
    local code=$?
    if [ "$code" -eq 5 ]; then  # pytest: no test was collected: a wrong path, not a pass
        echo "contract-ci: no test collected from '${tests:-your testpaths}'" >&2
    fi
    return "$code"
}

# 3. Fuzz: positive and negative cases per operation, then the stateful sequences; each failure with a curl line.
#    The campaign runs in shards (the same cases as one run), whose reports merge into fuzz.json / fuzz.xml.
fuzz_shard() {  # fuzz_shard K/N: one share, its reports named after it
    local name="fuzz-shard-${1%/*}"
    pytest-runcommand fuzz --target "${RUNCOMMAND_FUZZ_TARGET:-emulator}" \
        --max-examples "${RUNCOMMAND_FUZZ_EXAMPLES:-25}" --shard "$1" --workers "${RUNCOMMAND_FUZZ_WORKERS:-auto}" \
        --json "$reports/$name.json" --junit-xml "$reports/$name.xml" | tee "$reports/$name.txt"
}

fuzz() {
    if [ -n "${RUNCOMMAND_FUZZ_SHARD:-}" ]; then fuzz_shard "$RUNCOMMAND_FUZZ_SHARD"; return; fi
    local shards=${RUNCOMMAND_FUZZ_SHARDS:-2} k code=0
    if [ "$shards" -eq 0 ]; then return 0; fi
    for k in $(seq 1 "$shards"); do
        fuzz_shard "$k/$shards" || { local c=$?; if [ "$code" -eq 0 ]; then code=$c; fi; }
    done
    cat "$reports"/fuzz-shard-*.txt > "$reports/fuzz.txt"
    pytest-runcommand report merge "$reports"/fuzz-shard-*.json -o "$reports/fuzz.json" || return $?
    pytest-runcommand report merge "$reports"/fuzz-shard-*.xml -o "$reports/fuzz.xml" || return $?
    return "$code"
}

if [ -d "$cassettes" ]; then step "cassettes check" check_cassettes; fi
step "contract suite" contract_suite
step "fuzz" fuzz

echo "contract-ci: reports in $reports/: $(ls "$reports" | tr '\n' ' ')" >&2
exit "$status"
