#!/bin/sh
# fuzz.sh FUZZER... — run each libFuzzer target for a fixed budget on a scratch
# copy of its corpus (tests/fuzz/corpus_<name>/), so generated inputs stay out of git.
set -eu
BUDGET=${FUZZ_SECONDS:-60}
for f in "$@"; do
    name=$(basename "$f" | sed 's/^fuzz_//')
    work=$(mktemp -d)
    [ -d "tests/fuzz/corpus_$name" ] && cp -r "tests/fuzz/corpus_$name/." "$work/"
    echo "fuzz: $f for ${BUDGET}s"
    "$f" -max_total_time="$BUDGET" -print_final_stats=1 "$work" 2>&1 | tail -n 12
    rm -rf "$work"
done
