#!/bin/bash
# Self-test of .ci/check-layers on the fixture trees beside this script.
#
#   tests/layers/selftest.sh CHECK_LAYERS
#
# Each folder here is a tiny tree with one scenario; its file "expected" is
# what the check must print. The clean tree must exit 0, the others 1. Last
# line "N passed, N failed".
set -uo pipefail

[ $# -eq 1 ] || {
	echo "usage: $0 CHECK_LAYERS" >&2
	exit 2
}
CHECK=$1
HERE=$(cd -- "$(dirname -- "$0")" && pwd -P)
PASSED=0
FAILED=0

for tree in "$HERE"/*/; do
	name=$(basename -- "$tree")
	want=1
	[ "$name" = clean ] && want=0
	out=$("$CHECK" "$tree")
	rc=$?
	if [ "$rc" -eq "$want" ] && [ "$out" = "$(cat -- "$tree/expected")" ]; then
		echo "ok: $name"
		PASSED=$((PASSED + 1))
	else
		echo "FAIL: $name: exit $rc (want $want), output:"
		printf '%s\n' "$out" | diff -- "$tree/expected" - | sed 's/^/  /'
		FAILED=$((FAILED + 1))
	fi
done
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
