#!/bin/bash
# End-to-end suite: signals and a venus that fails, under coda-exec.
#
#   tests/e2e/signals.sh CODA_EXEC SIGCALLS
#
# SIGCALLS is tests/e2e/sigcalls.c: it makes /coda calls while signals
# arrive, and stops venus (SIGSTOP) to hold a call for as long as a test
# needs. The scenarios:
#   - a 1 ms SIGALRM timer (Go's preemption signals, in C) during 10 s of
#     /coda calls: every result as natively;
#   - a handled signal during a held call waits for venus's answer, as the
#     kernel's Coda module blocks signals during an upcall: the call is done
#     once, never failed with EEXIST by a restart;
#   - SIGINT during a held call ends it with EINTR at once (even under
#     SA_RESTART), venus gets CODA_SIGNAL and undoes an open;
#   - a target killed during a held call dies at once; venus is told with
#     CODA_SIGNAL and nothing more is done for it;
#   - a held call does not hold up another thread's calls;
#   - SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to coda-exec reach the
#     command, and coda-exec's status follows the command's;
#   - venus killed while a call is held: that call fails with EINTR, later
#     ones with ENXIO, host paths work, and data closed before is stored;
#   - coda-exec inside coda-exec: one clear line, status 125.
# Run as root, the suite reruns itself as nobody (setpriv) on copies of the
# binaries. Last line "N passed, N failed"; CODA_E2E_FILTER=REGEX selects.
set -uo pipefail

usage() {
	echo "usage: $0 CODA_EXEC SIGCALLS" >&2
	exit 2
}
[ $# -eq 2 ] || usage
HERE=$(cd -- "$(dirname -- "$0")" && pwd -P)
. "$HERE/lib.sh"
CODA_EXEC=$(realpath -- "$1")
SIGCALLS=$(realpath -- "$2")

suite_start coda-e2e-signals
t() { TESTS+=("$1"); }

# fresh_volume: $VOL (holding f.txt and dir d/) and an empty $CACHE.
fresh_volume() {
	new_volume 'a file in the volume\n'
	make_dirs "$VOL/d"
}

# cx TAG ARGS...: coda-exec on $VOL and $CACHE with ARGS; see cx_capture.
cx() {
	local tag=$1
	shift
	cx_capture "$tag" "" --volume "$VOL" --cache "$CACHE" "$@"
}


t alarm_every_ms_during_coda_calls_changes_no_result
alarm_every_ms_during_coda_calls_changes_no_result() {
	local ok=0 plain=$WORK/plain.$RANDOM
	fresh_volume
	make_dirs "$plain"
	"$SIGCALLS" storm "$plain" 10 >"$T/n.out" 2>"$T/n.err"
	echo $? >"$T/n.rc"
	cx c -- "$SIGCALLS" storm /coda/d 10
	expect_rc n 0 || ok=1
	expect_rc c 0 || ok=1
	expect_out c "storm ok" || ok=1
	if grep -q ', 0 signals' "$T/c.err"; then
		note "no signal arrived during the storm"
		ok=1
	fi
	if [ -n "$(ls -A "$VOL/d")" ]; then
		note "the storm left entries behind: $(ls "$VOL/d" | head -5)"
		ok=1
	fi
	return $ok
}

t handled_signal_during_held_call_waits_for_venus_and_does_it_once
handled_signal_during_held_call_waits_for_venus_and_does_it_once() {
	local ok=0
	fresh_volume
	cx c -- sh -c "$FIND_VENUS"'
"$0" held $v /coda/d/restarted restart && "$0" held $v /coda/d/plain eintr &&
"$0" excl $v /coda/d/created && cat /coda/d/created' "$SIGCALLS"
	expect_rc c 0 || ok=1
	expect_out c "mkdir 0
mkdir 0
create ok, 10 bytes, 1 signal
made once" || ok=1
	[ -d "$VOL/d/restarted" ] && [ -d "$VOL/d/plain" ] || {
		note "the directories did not reach the volume"
		ok=1
	}
	return $ok
}

t SIGINT_during_held_open_gives_EINTR_and_venus_undoes_the_open
SIGINT_during_held_open_gives_EINTR_and_venus_undoes_the_open() {
	local ok=0
	fresh_volume
	cx c -v -- sh -c "$FIND_VENUS"'
"$0" sigint $v /coda/f.txt' "$SIGCALLS"
	expect_rc c 0 || ok=1
	expect_out c "open EINTR" || ok=1
	grep -q 'CODA_OPEN_BY_FD (unique [0-9]*) interrupted' "$T/c.err" || {
		note "the held open was not the call interrupted: $(grep interrupted "$T/c.err")"
		ok=1
	}
	expect_grep c err 'venus: CODA_SIGNAL' || ok=1
	# A writer open left counted by venus would keep the next close from
	# storing: the volume would still hold the old bytes.
	[ "$(cat "$VOL/f.txt")" = "written after" ] || {
		note "the write after the interrupted open did not reach the volume: $(cat "$VOL/f.txt")"
		ok=1
	}
	return $ok
}

t killed_during_held_call_dies_at_once_and_venus_gets_CODA_SIGNAL
killed_during_held_call_dies_at_once_and_venus_gets_CODA_SIGNAL() {
	local ok=0
	fresh_volume
	cx c -v -- sh -c "$FIND_VENUS"'
"$0" killed $v /coda/d/never && sleep 0.2 && ls /coda/d' "$SIGCALLS"
	expect_rc c 0 || ok=1
	expect_out c "killed in time" || ok=1
	expect_grep c err ') interrupted' || ok=1
	expect_grep c err 'venus: CODA_SIGNAL' || ok=1
	if grep -q 'CODA_MKDIR' "$T/c.err" || [ -e "$VOL/d/never" ]; then
		note "venus was asked to make the killed caller's directory"
		ok=1
	fi
	return $ok
}

t held_call_does_not_hold_up_other_threads
held_call_does_not_hold_up_other_threads() {
	local ok=0
	fresh_volume
	cx c -- sh -c "$FIND_VENUS"'
"$0" unblocked $v /coda/f.txt /etc/hostname' "$SIGCALLS"
	expect_rc c 0 || ok=1
	expect_out c "unblocked ok" || ok=1
	return $ok
}

# --stage: a signal handler that runs during a wait under a mask of its
# own (sigsuspend, ppoll, pselect, epoll_pwait), which blocks every other
# signal, may stat host and /coda files: the first stage takes SIGSYS out
# of such masks, as the kernel would kill the program otherwise.
t stage_lets_handlers_in_masked_waits_make_path_calls
stage_lets_handlers_in_masked_waits_make_path_calls() {
	local ok=0 path
	fresh_volume
	for path in /etc/passwd /coda/f.txt; do
		cx c --stage -- "$SIGCALLS" masked "$path"
		expect_rc c 0 || ok=1
		expect_out c "masked waits: 4 stats" || ok=1
	done
	return $ok
}

# --stage holds SIGSYS for the program, but a SIGSYS of a filter of the
# program's own (SECCOMP_RET_TRAP, as a sandbox uses) is still the
# program's: its handler runs, and without one the program dies of it, as
# it does without the stage.
t stage_leaves_a_programs_own_seccomp_traps_to_it
stage_leaves_a_programs_own_seccomp_traps_to_it() {
	local ok=0
	fresh_volume
	cx h --stage -- "$SIGCALLS" owntrap handler
	expect_rc h 0 || ok=1
	expect_out h "own trap: handler ran once" || ok=1
	cx d --stage -- "$SIGCALLS" owntrap default
	expect_rc d 159 || ok=1 # 128 + SIGSYS
	return $ok
}

# forwarded SIG STATUS: coda-exec gets SIG (from kill, not the terminal);
# a command that traps it exits 40, one that does not dies of it. (set -m:
# a background job of a shell without job control would ignore SIGINT.)
forwarded() {
	local sig=$1 ok=0
	fresh_volume
	# The last test's "ready" must not be taken for this one's: the job's
	# own redirection truncates the file only once it has started.
	rm -f "$T/c.out" "$T/d.out"
	(
		set -m
		"$CODA_EXEC" --volume "$VOL" --cache "$CACHE" -- sh -c \
			'trap "echo got '"$sig"'; exit 40" '"$sig"'; cat /coda/f.txt; echo ready; while :; do sleep 0.05; done' \
			>"$T/c.out" 2>"$T/c.err" &
		pid=$!
		for _ in $(seq 100); do grep -q ready "$T/c.out" && break; sleep 0.05; done
		kill -s "$sig" "$pid"
		wait "$pid"
		echo $? >"$T/c.rc"
	)
	expect_rc c 40 || ok=1
	expect_out c "a file in the volume
ready
got $sig" || ok=1
	(
		set -m
		"$CODA_EXEC" --volume "$VOL" --cache "$CACHE" -- sh -c 'echo ready; exec sleep 30' \
			>"$T/d.out" 2>"$T/d.err" &
		pid=$!
		for _ in $(seq 100); do grep -q ready "$T/d.out" && break; sleep 0.05; done
		sleep 0.1
		kill -s "$sig" "$pid"
		wait "$pid"
		echo $? >"$T/d.rc"
	)
	expect_rc d "$2" || ok=1
	return $ok
}

t SIGINT_reaches_the_command
SIGINT_reaches_the_command() { forwarded INT 130; }
t SIGTERM_reaches_the_command
SIGTERM_reaches_the_command() { forwarded TERM 143; }
t SIGHUP_reaches_the_command
SIGHUP_reaches_the_command() { forwarded HUP 129; }
t SIGQUIT_reaches_the_command
SIGQUIT_reaches_the_command() { forwarded QUIT 131; }

# A process the command leaves running keeps /coda (without the supervisor
# its every trapped call would fail with ENOSYS) and its cwd there, though
# its parent has gone before its first trapped call: coda-exec ends when it
# has, with the command's status, and what it wrote is on the volume.
t process_left_behind_keeps_coda_until_it_exits
process_left_behind_keeps_coda_until_it_exits() {
	local ok=0
	fresh_volume
	cx c -- "$PY" -c '
import os, sys, time
os.chdir("/coda/d")
if os.fork() == 0:
    time.sleep(0.3)
    open("late", "w").write("late\n")
    print(open("../f.txt").read(), os.getcwd(), sep="", flush=True)
    os._exit(0)
print("early", flush=True)
sys.exit(7)'
	expect_rc c 7 || ok=1
	expect_out c "early
a file in the volume
/coda/d" || ok=1
	[ "$(cat "$VOL/d/late" 2>/dev/null)" = late ] || {
		note "what the process left behind wrote is not on the volume"
		ok=1
	}
	return $ok
}

# A SIGTERM that ends the command ends what it left running too (a busy
# subshell that never made a trapped call as well): coda-exec does not wait
# for them.
t SIGTERM_that_ends_the_command_ends_what_it_left_running
SIGTERM_that_ends_the_command_ends_what_it_left_running() {
	local ok=0 left
	fresh_volume
	rm -f "$T/c.out" # as in forwarded
	(
		set -m
		"$CODA_EXEC" --volume "$VOL" --cache "$CACHE" -- sh -c \
			'sleep 30 & echo $! >"$0/left.pids"; (while :; do :; done) & echo $! >>"$0/left.pids"
			echo ready; exec sleep 30' "$T" >"$T/c.out" 2>"$T/c.err" &
		pid=$!
		for _ in $(seq 100); do grep -q ready "$T/c.out" && break; sleep 0.05; done
		sleep 0.1
		kill -TERM "$pid"
		for _ in $(seq 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
		kill -KILL "$pid" 2>/dev/null && echo "still running 10 s after SIGTERM" >>"$T/c.err"
		wait "$pid"
		echo $? >"$T/c.rc"
	)
	expect_rc c 143 || ok=1
	for left in $(cat "$T/left.pids"); do
		if kill -0 "$left" 2>/dev/null; then
			note "process $left the command left running is still there"
			kill -KILL "$left"
			ok=1
		fi
	done
	return $ok
}

t venus_killed_during_held_call_gives_EINTR_then_ENXIO
venus_killed_during_held_call_gives_EINTR_then_ENXIO() {
	local ok=0
	fresh_volume
	cx c -- sh -c "$FIND_VENUS"'
echo stored >/coda/d/closed-before || exit 10
# The next /coda call waits for the store, as close(2) would on a kernel mount.
test -s /coda/d/closed-before || exit 11
kill -STOP $v
cat /coda/d/closed-before >/dev/null 2>"$0/held.err" &
sleep 0.3
kill -9 $v; kill -CONT $v
wait
i=0; while kill -0 $v 2>/dev/null && [ $i -lt 500 ]; do sleep 0.01; i=$((i + 1)); done
cat /coda/f.txt
cat /etc/hostname >/dev/null && echo host-ok
cat "$0/held.err" >&2
exit 3' "$T"
	expect_rc c 3 || ok=1
	expect_out c "host-ok" || ok=1
	expect_grep c err 'closed-before: Interrupted system call' || ok=1
	expect_grep c err 'cat: /coda/f.txt: No such device or address' || ok=1
	expect_grep c err 'venus has gone away' || ok=1
	[ "$(cat "$VOL/d/closed-before" 2>/dev/null)" = stored ] || {
		note "data closed before venus died is not on the volume"
		ok=1
	}
	return $ok
}

t coda_exec_inside_coda_exec_says_so_in_one_line
coda_exec_inside_coda_exec_says_so_in_one_line() {
	local ok=0
	fresh_volume
	cx c -- "$CODA_EXEC" --volume "$VOL" --cache "$CACHE" -- true
	expect_rc c 125 || ok=1
	expect_text c err "coda-exec: cannot install the seccomp filter: a seccomp listener is already present in this process tree (coda-exec under coda-exec?), and Linux lets only one watch a process (run the command outside the other listener's tree; under coda-exec, its /coda is there already)" || ok=1
	if [ "$(wc -l <"$T/c.err")" != 1 ]; then
		note "expected one line on stderr:"
		cat "$T/c.err" >>"$DETAIL"
		ok=1
	fi
	return $ok
}

warn_if_mount_exists
run_tests

if nobody_rerun_wanted; then
	nobody_prepare "$HERE/signals.sh"
	nobody_copy_coda_exec
	cp -- "$SIGCALLS" "$N/bin/sigcalls"
	rerun_as_nobody -- signals.sh "$N/bin/coda-exec" "$N/bin/sigcalls"
fi

report_totals
