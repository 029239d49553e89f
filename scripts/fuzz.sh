#!/bin/sh
# fuzz.sh FUZZER... — run each libFuzzer target for a fixed budget on a scratch
# copy of its corpus (tests/fuzz/corpus_<name>/), so generated inputs stay out of git.
#
# Targets (tests/fuzz/README.md): fuzz_signal (the signal grammar), fuzz_webhook_json
# (POST /webhook's JSON body up to the journal copy), fuzz_tg_update (getUpdates
# answers through the real Telegram client and command router), fuzz_mt5_poll (the MT5
# bridge's POST /mt5/poll JSON: shape and time-range check, comment limit).
#
# Exit status 1 when any target crashed, leaked or found undefined behaviour; its
# reproducer is kept in $BUILD/fuzz/artifacts/ (set ZX_FUZZ_STRICT=1 to also stop on
# the known bugs the targets otherwise only count; see the README).
set -eu
BUDGET=${FUZZ_SECONDS:-60}
failed=""
for f in "$@"; do
    name=$(basename "$f" | sed 's/^fuzz_//')
    work=$(mktemp -d)
    artifacts="$(dirname "$f")/artifacts"
    mkdir -p "$artifacts"
    [ -d "tests/fuzz/corpus_$name" ] && cp -r "tests/fuzz/corpus_$name/." "$work/"
    echo "fuzz: $f for ${BUDGET}s"
    status=0
    "$f" -max_total_time="$BUDGET" -print_final_stats=1 -artifact_prefix="$artifacts/$name-" \
        "$work" >"$work.log" 2>&1 || status=$?
    grep -v -e '^"' -e 'Recommended dictionary' -e 'End of recommended dictionary' "$work.log" | tail -n 9
    if [ "$status" -ne 0 ]; then
        echo "fuzz: $f FAILED (exit $status); reproducer in $artifacts/"
        grep -E 'ERROR|SUMMARY|invariant failed|runtime error' "$work.log" | head -n 5
        failed="$failed $name"
    fi
    rm -rf "$work" "$work.log"
done
[ -z "$failed" ] || { echo "fuzz: failed:$failed"; exit 1; }
echo "fuzz: all clean"
