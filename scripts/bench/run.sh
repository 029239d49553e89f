#!/bin/sh
# bench/run.sh — measured figures of the real daemon on loopback, printed and
# written to BENCHMARKS.md with the machine and the commands that produced them.
set -eu
exec python3 "$(dirname "$0")/bench.py" "$@"
