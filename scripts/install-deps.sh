#!/bin/sh
# install-deps.sh — install what zepix needs to build and test, and only what is
# missing. Idempotent: on a machine that has everything it prints one line.
# Debian/Ubuntu (apt-get); anything else gets a clear message and exit 1.
set -eu

missing=""
need() {  # need PACKAGE CHECK-COMMAND...
    pkg=$1; shift
    if ! "$@" >/dev/null 2>&1; then missing="$missing $pkg"; fi
}
have_pc() { command -v pkg-config >/dev/null 2>&1 && pkg-config --exists "$1"; }
have_hdr() { [ -f "/usr/include/$1" ] || [ -f "/usr/local/include/$1" ]; }

need make            command -v make
need gcc             command -v cc
need g++             command -v g++    # the MQL5 shim that compiles the MT5 EA in the tests (tests/mt5/)
need pkg-config      command -v pkg-config
need libev-dev       have_hdr ev.h
need libcurl4-openssl-dev have_pc libcurl
need libjson-c-dev   have_pc json-c
need libsqlite3-dev  have_pc sqlite3
need libmicrohttpd-dev have_pc libmicrohttpd
need libcairo2-dev   have_pc cairo
need libfontconfig-dev have_pc fontconfig
need libcmocka-dev   have_pc cmocka
need libseccomp-dev  have_pc libseccomp   # the plugin host's syscall filter (isolation "process")
need python3         command -v python3
need sqlite3         command -v sqlite3
need tzdata          test -f /usr/share/zoneinfo/Asia/Kolkata
need ca-certificates test -d /etc/ssl/certs
if [ "${1:-}" = --bench ]; then need wrk command -v wrk; fi   # make bench: the HTTP load generator

if [ -z "$missing" ]; then
    echo "install-deps: all build and test dependencies present"
    exit 0
fi

echo "install-deps: missing:$missing"
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-deps: no apt-get on this system; install the equivalents of:$missing" >&2
    exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
        echo "install-deps: need root (or sudo) to install:$missing" >&2
        exit 1
    fi
fi
echo "install-deps: apt-get update"
$SUDO apt-get update -qq
echo "install-deps: apt-get install$missing"
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
echo "install-deps: done"
