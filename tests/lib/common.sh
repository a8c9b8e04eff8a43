# SPDX-License-Identifier: ISC
# Sourced by every tests/integration/tNN_*/run.sh after it sets TERN_ROOT.
# Makes the test's private temp dir ($TERN_TEST_DIR), exports TERN_BIN, PY
# (always /usr/bin/python3: Debian's, with its packages) and PYTHONPATH, and
# installs a trap that runs the cleanup hooks (on_cleanup CMD) and then
# SIGKILLs every PID recorded in $TERN_TEST_DIR/pids (only processes this
# test started; tests/lib/tern.py records them).  KEEP=1 keeps the dir.

: "${TERN_ROOT:?set TERN_ROOT before sourcing common.sh}"
: "${TERN_BIN:=$TERN_ROOT/build/san/tern}"
export TERN_BIN TERN_ROOT
export PY=/usr/bin/python3
export PYTHONPATH=$TERN_ROOT/tests/lib
export PYTHONDONTWRITEBYTECODE=1
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
TERN_TEST_NAME=$(basename "$(cd "$(dirname "${BASH_SOURCE[1]}")" && pwd)")
TERN_TEST_DIR=$(mktemp -d "${TMPDIR:-/tmp}/tern-$TERN_TEST_NAME.XXXXXX")
export TERN_TEST_DIR TERN_TEST_NAME

_tern_cleanup_hooks=()
on_cleanup() { _tern_cleanup_hooks+=("$1"); }

_tern_cleanup() {
	local h pid
	for h in "${_tern_cleanup_hooks[@]}"; do
		eval "$h" >/dev/null 2>&1 || true
	done
	if [ -f "$TERN_TEST_DIR/pids" ]; then
		while read -r pid; do
			[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
		done <"$TERN_TEST_DIR/pids"
	fi
	if [ -n "${KEEP:-}" ]; then
		echo "# kept $TERN_TEST_DIR"
	else
		rm -rf "$TERN_TEST_DIR"
	fi
}
trap _tern_cleanup EXIT
trap 'exit 143' TERM INT HUP

# require_tern: fails the test at once if the binary is missing.
require_tern() {
	if [ ! -x "$TERN_BIN" ]; then
		echo "not ok - tern binary exists ($TERN_BIN)"
		exit 1
	fi
}

# require_cmd CMD...: fails the test if a peer program is missing.
require_cmd() {
	local c
	for c in "$@"; do
		if ! command -v "$c" >/dev/null 2>&1; then
			echo "not ok - $c is installed (scripts/install-deps test)"
			exit 1
		fi
	done
}
