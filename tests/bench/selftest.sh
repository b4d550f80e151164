#!/bin/bash
# bench/'s programs do what bench/run.sh relies on (no timing is checked):
# floor runs a command under coda-exec's filter with native results and
# exits as coda-exec does, micro's tests call what they say, `micro second`
# runs the command twice around the command between. As root, everything
# runs again as nobody.
#
#   tests/bench/selftest.sh FLOOR MICRO
#
# Last line "N passed, N failed".
set -uo pipefail

[ $# -eq 2 ] || {
	echo "usage: $0 FLOOR MICRO" >&2
	exit 2
}
FLOOR=$(realpath -- "$1")
MICRO=$(realpath -- "$2")
PASSED=0
FAILED=0
T=$(mktemp -d)
trap 'rm -rf -- "$T"' EXIT
chmod 755 "$T"
AS=()

check() { # NAME: runs test_NAME in a fresh scratch dir
	local dir
	dir=$(mktemp -d "$T/s.XXXXXX")
	chmod 777 "$dir"
	if (cd "$dir" && "test_$1" "$dir"); then
		echo "ok: $1${AS:+ (as nobody)}"
		PASSED=$((PASSED + 1))
	else
		echo "FAIL: $1${AS:+ (as nobody)}"
		FAILED=$((FAILED + 1))
	fi
}

test_floor_exits_with_the_command_status() {
	"${AS[@]}" "$FLOOR" sh -c 'exit 3'
	[ $? -eq 3 ] || return 1
	"${AS[@]}" "$FLOOR" true
}

test_floor_exits_as_a_shell_for_a_killed_command() {
	"${AS[@]}" "$FLOOR" sh -c 'kill -9 $$'
	[ $? -eq 137 ]
}

test_floor_waits_for_what_the_command_left_running() {
	"${AS[@]}" "$FLOOR" sh -c "(sleep 0.3; echo late >$1/out) & exit 0" || return 1
	[ "$(cat "$1/out" 2>/dev/null)" = late ]
}

test_floor_runs_the_command_under_the_filter_with_native_results() {
	local cmd="grep -c ^Seccomp:.2 /proc/self/status; cd /etc && ls -la . | head; stat -c %i%s%Y passwd; cat hostname"
	local native under
	native=$("${AS[@]}" sh -c "$cmd")
	under=$("${AS[@]}" "$FLOOR" sh -c "$cmd")
	[ "${native%%$'\n'*}" = 0 ] && [ "${under%%$'\n'*}" = 1 ] &&
		[ "${native#*$'\n'}" = "${under#*$'\n'}" ]
}

test_floor_says_why_it_cannot_run_a_command() {
	local err
	err=$("${AS[@]}" "$FLOOR" /nonexistent/prog 2>&1)
	[ $? -eq 127 ] && [ "$err" = "floor: /nonexistent/prog: No such file or directory" ]
}

test_micro_second_runs_the_command_twice_around_the_command_between() {
	"${AS[@]}" "$MICRO" second -c "echo between >>$1/log" "$1/times" -- \
		sh -c "echo run >>$1/log" || return 1
	[ "$(cat "$1/log")" = "$(printf 'run\nbetween\nrun')" ] &&
		grep -qxE '[0-9]+\.[0-9]{6}' "$1/times" && [ "$(wc -l <"$1/times")" -eq 1 ]
}

test_micro_second_fails_when_a_run_fails() {
	"${AS[@]}" "$MICRO" second "$1/times" -- false && return 1
	[ ! -e "$1/times" ]
}

test_micro_tests_call_what_they_say() {
	local t
	mkdir "$1/d" "$1/w" && chmod 777 "$1/d" "$1/w"
	for i in $(seq 0 29); do : >"$1/d/f$i"; done
	"${AS[@]}" "$MICRO" -n 10 -b 3 rtt | grep -qE "^rtt [0-9.]+ [0-9.]+ [0-9.]+$" || return 1
	for t in lstat-cold lstat-cached lstat-missing open-close lstat-host; do
		"${AS[@]}" "$MICRO" -n 10 -b 3 $t "$1/d" | grep -qE "^$t [0-9.]+ [0-9.]+ [0-9.]+$" ||
			return 1
	done
	"${AS[@]}" "$MICRO" -n 10 -b 3 create-write-close "$1/w" | grep -q '^create-write-close ' &&
		[ "$(find "$1/w" -type f -size 4096c | wc -l)" -eq 30 ] &&
		[ "$(ls "$1/w" | wc -l)" -eq 30 ]
}

test_micro_fails_on_a_file_that_is_not_there() {
	mkdir "$1/empty"
	"${AS[@]}" "$MICRO" -n 10 -b 1 lstat-cached "$1/empty" 2>/dev/null && return 1
	"${AS[@]}" "$MICRO" -n 10 -b 1 lstat-cold "$1/empty" 2>/dev/null && return 1
	return 0
}

all() {
	for t in $(declare -F | sed -n 's/^declare -f test_//p'); do
		check "$t"
	done
}
all
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	# nobody may not reach the build tree: copies of both programs.
	cp "$FLOOR" "$MICRO" "$T/" && chmod 755 "$T/floor" "$T/micro"
	FLOOR=$T/floor MICRO=$T/micro
	AS=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
	all
fi
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
