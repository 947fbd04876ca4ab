#!/usr/bin/env bash
# Contract CI for a project that automates Azure VM Run Commands, with pytest-runcommand. The one place for the
# commands: github-workflow.yml calls one step per job, pytest-runcommand's own .ci/run calls them all.
#
#   contract-ci.sh [all]          every step below in sequence: contract, each fuzz shard, merge
#   contract-ci.sh contract       1. check the committed cassettes offline (contract + secret scan, also as SARIF);
#                                 2. run the test suite with the network blocked: cassettes replay (record mode
#                                    none), every run-command exchange of a test marked runcommand_contract is
#                                    validated, the coverage report (contract.json + .html) and JUnit XML are written
#   contract-ci.sh fuzz-shard K N 3. fuzz share K of N of the campaign (schemathesis + this API's checks) against the
#                                    emulator or RUNCOMMAND_FUZZ_TARGET: fuzz-shard-K-of-N.json / .xml / .txt;
#                                    the N shares are the whole campaign (the same cases as one run)
#   contract-ci.sh merge          4. merge the fuzz-shard-K-of-N reports in the reports folder (all N must be there)
#                                    into fuzz.json / fuzz.xml / fuzz.txt with pytest-runcommand report merge
#
# Every step runs even when an earlier one fails, so that all reports are written; the exit code is the first
# failure's (2: a wrong step, argument or setting, refused before anything is run or written). Copy this file
# (and github-workflow.yml) into your repository.
#
# Settings (environment):
#   RUNCOMMAND_TESTS           test paths for the suite (default: the testpaths of your pytest configuration)
#   RUNCOMMAND_CASSETTES       cassette folder to check (default: cassettes; skipped when absent)
#   RUNCOMMAND_REPORTS         where reports go (default: reports)
#   RUNCOMMAND_FUZZ_TARGET     'emulator' (default) or a base URL
#   RUNCOMMAND_FUZZ_EXAMPLES   cases per operation and mode (default: 25)
#   RUNCOMMAND_FUZZ_SHARDS     shards of the campaign in 'all' (default: 2; 0 skips fuzzing)
#   RUNCOMMAND_FUZZ_WORKERS    worker processes per shard: auto (default, one per core) or a number
# Needs: pip install "pytest-runcommand[fuzz]" (fuzz-shard; merge needs no extra) and your own test dependencies.
# shellcheck disable=SC2329  # the steps' functions are called through step()
set -uo pipefail

tests=${RUNCOMMAND_TESTS:-}
cassettes=${RUNCOMMAND_CASSETTES:-cassettes}
reports=${RUNCOMMAND_REPORTS:-reports}
examples=${RUNCOMMAND_FUZZ_EXAMPLES:-25}
shards=${RUNCOMMAND_FUZZ_SHARDS:-2}
workers=${RUNCOMMAND_FUZZ_WORKERS:-auto}
status=0

usage() {
    cat >&2 <<'EOF'
usage: contract-ci.sh [STEP]
  all (the default)  contract, each of RUNCOMMAND_FUZZ_SHARDS fuzz shards, merge, in sequence
  contract           check the cassettes, run the contract suite (coverage report, JUnit XML)
  fuzz-shard K N     fuzz share K of N of the campaign: fuzz-shard-K-of-N.json / .xml / .txt
  merge              merge the fuzz-shard-K-of-N reports (all N) into fuzz.json / fuzz.xml / fuzz.txt
EOF
}

step() {  # step NAME COMMAND...: run it, keep the first failure's exit code, go on
    local name=$1
    shift
    if [ -n "${GITHUB_ACTIONS:-}" ]; then echo "::group::$name"; else echo "== contract-ci: $name" >&2; fi
    "$@"
    local code=$?
    if [ -n "${GITHUB_ACTIONS:-}" ]; then echo "::endgroup::"; fi
    if [ "$code" -ne 0 ]; then
        echo "contract-ci: $name failed (exit $code)" >&2
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
fuzz_shard() {  # fuzz_shard K N: share K of N, its reports named after it
    local name="fuzz-shard-$1-of-$2"
    pytest-runcommand fuzz --target "${RUNCOMMAND_FUZZ_TARGET:-emulator}" \
        --max-examples "$examples" --shard "$1/$2" --workers "$workers" \
        --json "$reports/$name.json" --junit-xml "$reports/$name.xml" | tee "$reports/$name.txt"
}

# 4. The shards' reports, as one run's: refused when a shard is missing (a partial union is not the campaign).
merge() {
    rm -f "$reports/fuzz.json" "$reports/fuzz.xml" "$reports/fuzz.txt"  # an earlier merge's must not be uploaded
    local found=("$reports"/fuzz-shard-*-of-*.json) n file k kind missing=0
    if [ ! -f "${found[0]}" ]; then
        echo "contract-ci: no fuzz-shard-K-of-N.json report in $reports/ to merge" >&2
        return 1
    fi
    n=${found[0]##*-of-}
    n=${n%.json}
    for file in "${found[@]}"; do
        if ! [[ "$n" =~ ^[1-9][0-9]*$ && "$file" =~ -of-$n\.json$ ]]; then
            echo "contract-ci: $file: not one of the N shards of the others ($n); keep one campaign's reports" >&2
            return 1
        fi
    done
    local prefixes=()
    for k in $(seq 1 "$n"); do
        for kind in json xml; do
            if [ ! -f "$reports/fuzz-shard-$k-of-$n.$kind" ]; then
                echo "contract-ci: $reports/fuzz-shard-$k-of-$n.$kind is missing: shard $k of $n did not report" >&2
                missing=1
            fi
        done
        prefixes+=("$reports/fuzz-shard-$k-of-$n")
    done
    if [ "$missing" -ne 0 ]; then return 1; fi
    for k in "${prefixes[@]}"; do if [ -f "$k.txt" ]; then cat "$k.txt"; fi; done > "$reports/fuzz.txt"
    pytest-runcommand report merge "${prefixes[@]/%/.json}" -o "$reports/fuzz.json" || return $?
    pytest-runcommand report merge "${prefixes[@]/%/.xml}" -o "$reports/fuzz.xml"
}

contract() {
    if [ -d "$cassettes" ]; then step "cassettes check" check_cassettes; fi
    step "contract suite" contract_suite
}

all() {
    contract
    local k
    if [ "$shards" -eq 0 ]; then return; fi
    for k in $(seq 1 "$shards"); do step "fuzz shard $k of $shards" fuzz_shard "$k" "$shards"; done
    step "merge" merge
}

number() {  # number NAME VALUE PATTERN WHAT: exit 2 unless VALUE matches PATTERN
    if ! [[ "$2" =~ $3 ]]; then
        echo "contract-ci: $1 must be $4, got '$2'" >&2
        exit 2
    fi
}

fuzz_settings() {
    number RUNCOMMAND_FUZZ_EXAMPLES "$examples" '^[1-9][0-9]{0,8}$' "a whole number of cases >= 1"
    if [ "$workers" != auto ]; then
        number RUNCOMMAND_FUZZ_WORKERS "$workers" '^[1-9][0-9]{0,3}$' "'auto' or a whole number >= 1"
    fi
}

# The step and its arguments and settings are checked before anything is written.
step_name=${1:-all}
case "$step_name" in
    all)
        [ $# -le 1 ] || { usage; exit 2; }
        number RUNCOMMAND_FUZZ_SHARDS "$shards" '^[0-9]{1,4}$' "a whole number of shards (0 skips fuzzing)"
        shards=$((10#$shards))
        fuzz_settings
        ;;
    contract | merge) [ $# -eq 1 ] || { usage; exit 2; } ;;
    fuzz-shard)
        if [ $# -ne 3 ] || ! [[ "$2" =~ ^[1-9][0-9]{0,3}$ && "$3" =~ ^[1-9][0-9]{0,3}$ ]] || [ "$2" -gt "$3" ]; then
            echo "contract-ci: fuzz-shard takes K N with 1 <= K <= N, got: ${*:2}" >&2
            exit 2
        fi
        fuzz_settings
        ;;
    -h | --help) usage; exit 0 ;;
    *) echo "contract-ci: unknown step '$1'" >&2; usage; exit 2 ;;
esac

mkdir -p "$reports" || exit 2
case "$step_name" in
    all) all ;;
    contract) contract ;;
    fuzz-shard) step "fuzz shard $2 of $3" fuzz_shard "$2" "$3" ;;
    merge) step "merge" merge ;;
esac

shopt -s nullglob
written=("$reports"/*)
echo "contract-ci: reports in $reports/: ${written[*]##*/}" >&2
exit "$status"
