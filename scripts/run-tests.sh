#!/usr/bin/env bash
# run-tests.sh — run every test program and print one closing line:
#   tests: N passed, M failed
# Unit tests: $ZEPIX_BUILD/tests/{test,ptest}_* (cmocka). Integration tests:
# tests/integration/test_*.py and tests/fixtures/test_*.py (python unittest),
# which start the real $ZEPIX_BUILD/zepix. Exit status 1 when anything failed.
set -u
BUILD=${ZEPIX_BUILD:-build}
export ZEPIX_BUILD="$BUILD"
LOGDIR="$(pwd)/$BUILD/test-logs"
mkdir -p "$LOGDIR"
rm -f "$LOGDIR"/*.rc
passed=0; failed=0; failed_names=""

count() {  # count LOG STATUS NAME
    log=$1; status=$2; name=$3
    p=$(grep -cE '^\[       OK \]|\.\.\. ok$' "$log")
    f=$(grep -cE '^\[  FAILED  \] [a-z_]|^\[  ERROR   \]|\.\.\. (FAIL|ERROR)$' "$log")
    if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi   # crashed or timed out
    passed=$((passed + p)); failed=$((failed + f))
    if [ "$status" -ne 0 ] || [ "$f" -ne 0 ]; then
        failed_names="$failed_names $name"
        echo "---- $name FAILED (exit $status); its output:"
        tail -n 60 "$log"
    else
        echo "ok   $name ($p)"
    fi
}

for t in "$BUILD"/tests/test_* "$BUILD"/tests/ptest_*; do
    case $t in *.d|*.o) continue ;; esac
    [ -x "$t" ] || continue
    name=$(basename "$t")
    timeout 120 "$t" >"$LOGDIR/$name.log" 2>&1
    count "$LOGDIR/$name.log" $? "$name"
done

# Integration tests mostly wait on the daemon, so ZEPIX_TEST_JOBS (default 2)
# of them run at once; each has its own port and data dir. Results are
# reported in file order whatever order they finish in.
JOBS=${ZEPIX_TEST_JOBS:-2}
set --
for t in tests/fixtures/test_*.py tests/integration/test_*.py; do
    [ -f "$t" ] && set -- "$@" "$t"
done
running=0
for t in "$@"; do
    name=$(basename "$t" .py)
    ( (cd "$(dirname "$t")" && timeout 240 python3 -m unittest -v "$name") >"$LOGDIR/$name.log" 2>&1
      echo $? >"$LOGDIR/$name.rc" ) &
    running=$((running + 1))
    if [ "$running" -ge "$JOBS" ]; then
        wait -n
        running=$((running - 1))
    fi
done
wait
for t in "$@"; do
    name=$(basename "$t" .py)
    count "$LOGDIR/$name.log" "$(cat "$LOGDIR/$name.rc" 2>/dev/null || echo 1)" "$name"
done

[ -n "$failed_names" ] && echo "failed:$failed_names"
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
