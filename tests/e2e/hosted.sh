#!/bin/bash
# End-to-end suite: what only a hosted venus (--venus-cmd) does.
#
#   tests/e2e/hosted.sh CODA_EXEC TESTVENUS PIOCTL [CONTAINER_PROFILE]
#
# TESTVENUS is tests/testvenus, which behaves as stock Coda venus does on
# its device; PIOCTL is tests/e2e/pioctl.c, a pioctl through a virtual
# pioctl file as the Coda tools (cfs, clog, ctokens) make one. The read and
# write suites run against it too (e2e-hosted, e2e-write-hosted); this one
# covers the rest:
#   - downcalls reach the supervisor's caches: a change made behind venus's
#     back is seen after venus's CODA_FLUSH, and not before;
#   - a venus that never mounts, or exits at start, gives one clear line and
#     status 125, without a hang;
#   - the upcalls carry the target's fsuid;
#   - a write a disconnected venus (-write-disconnected) has not stored
#     survives its restart, by the owner fakeroot keeps on its container,
#     and is stored when a connected venus starts;
#   - an open reply naming an fd venus has not open fails the opens alone;
#   - a pioctl through a virtual pioctl file gets venus's answer, made for
#     the caller's uid;
#   - under CONTAINER_PROFILE (tests/e2e/container_profile, Docker's default
#     profile), which denies mount(2) before coda-exec can trap it, one
#     clear line says so and venus is not started;
#   - no venus outlives coda-exec: not the README's example line, not one a
#     shell forks, and not when coda-exec is killed (the test venus, as
#     stock venus, moves into a process group of its own and spins on a
#     device that has gone away, deaf to SIGTERM);
#   - --venus-cmd makes none of the embedded venus's directories.
# Run as root, the suite reruns itself as nobody (setpriv) on copies of the
# binaries. Last line "N passed, N failed"; CODA_E2E_FILTER=REGEX selects.
set -uo pipefail

usage() {
	echo "usage: $0 CODA_EXEC TESTVENUS PIOCTL [CONTAINER_PROFILE]" >&2
	exit 2
}
[ $# -eq 3 ] || [ $# -eq 4 ] || usage
HERE=$(cd -- "$(dirname -- "$0")" && pwd -P)
. "$HERE/lib.sh"
CODA_EXEC=$(realpath -- "$1")
TESTVENUS=$(realpath -- "$2")
PIOCTL=$(realpath -- "$3")
PROFILE=${4:+$(realpath -- "$4")}

suite_start coda-e2e-hosted
t() { TESTS+=("$1"); }

# fresh_volume: $VOL holding f.txt (6 bytes), and an empty $CACHE.
fresh_volume() {
	new_volume 'hello\n'
}

# hx TAG [VENUS_FLAGS] -- ARGS...: coda-exec hosting the test venus on $VOL.
hx() {
	local tag=$1 flags=''
	shift
	while [ "$1" != -- ]; do
		flags+=" $1"
		shift
	done
	shift
	cx_capture "$tag" "" --venus-cmd "exec $TESTVENUS -volume $VOL -cache $CACHE$flags" "$@"
}


t flush_downcall_makes_a_change_behind_venus_seen
flush_downcall_makes_a_change_behind_venus_seen() {
	local ok=0
	fresh_volume
	hx c -- -- sh -c "$FIND_VENUS"'
stat -c %s /coda/f.txt
printf "more bytes\n" >>"$0/f.txt"
stat -c %s /coda/f.txt
kill -USR2 $v
sleep 0.3
stat -c %s /coda/f.txt' "$VOL"
	expect_rc c 0 || ok=1
	# cached until venus says otherwise, as a kernel mount's inode
	expect_out c "6
6
17" || ok=1
	return $ok
}

# A stock venus may rewrite a container in place (it recycles its cache
# files), so no reader's container is kept past its close: venus is asked
# at every open, as by a kernel mount.
t stock_venus_is_asked_at_every_open
stock_venus_is_asked_at_every_open() {
	local ok=0
	fresh_volume
	hx c -- --trace -- sh -c 'cat /coda/f.txt; cat /coda/f.txt; ls /coda; ls /coda'
	expect_rc c 0 || ok=1
	expect_out c "$(printf 'hello\nhello\nf.txt\nf.txt')" || ok=1
	expect_upcalls c OPEN_BY_FD 4 || ok=1
	return $ok
}

t upcalls_carry_the_targets_fsuid
upcalls_carry_the_targets_fsuid() {
	local ok=0
	fresh_volume
	hx c -v -- -- cat /coda/f.txt
	expect_rc c 0 || ok=1
	if ! grep -q "uid=$(id -u)\b" "$T/c.err" || grep -v "uid=$(id -u)\b" "$T/c.err" | grep -c 'uid=' >/dev/null; then
		note "upcalls do not all carry uid $(id -u):"
		grep 'uid=' "$T/c.err" | head -5 >>"$DETAIL"
		ok=1
	fi
	return $ok
}

# The exchange cfs, clog and ctokens make with venus: the request written
# into a virtual file at the mount's root must reach venus before the file is
# opened again, and that open must give venus's answer, made then.
t pioctl_through_a_virtual_file_gets_venus_answer
pioctl_through_a_virtual_file_gets_venus_answer() {
	local ok=0
	fresh_volume
	local open
	for open in fd path; do
		hx "$open" -- --venus-open "$open" -- sh -c '"$0" /coda 1 /coda/f.txt "tokens please" &&
cd /coda && "$0" . 1 f.txt relative && "$0" /coda 7 / x && ls -A /coda' "$PIOCTL"
		expect_rc "$open" 0 || ok=1
		expect_out "$open" "code 0: uid $(id -u): /coda/f.txt: tokens please
code 0: uid $(id -u): f.txt: relative
code 22: 
f.txt" || ok=1
	done
	return $ok
}

# Bad input from a hosted venus: an open reply naming an fd it has not open
# fails that open with EBADF, and nothing else.
t open_reply_naming_an_fd_not_open_fails_only_the_opens
open_reply_naming_an_fd_not_open_fails_only_the_opens() {
	local ok=0
	fresh_volume
	hx c -bad-open-fd -- -- sh -c 'cat /coda/f.txt; echo "cat $?"; ls /coda; echo "ls $?"
stat -c %s /coda/f.txt; cat /etc/hostname >/dev/null && echo host-ok'
	# A directory is opened by CODA_OPEN_BY_FD too; stat needs no open.
	expect_rc c 0 || ok=1
	expect_out c "cat 1
ls 2
6
host-ok" || ok=1
	expect_grep c err "cat: /coda/f.txt: Bad file descriptor" || ok=1
	expect_grep c err "coda-exec: the container of venus's open reply" || ok=1
	return $ok
}

# As root a chown is made; as an ordinary user it is recorded (an xattr on
# the file) and reported by stat: venus's cache files keep the owner venus
# gave them, in this run and the next, as stock venus checks at start.
t venus_chown_is_seen_by_its_stat_in_this_run_and_the_next
venus_chown_is_seen_by_its_stat_in_this_run_and_the_next() {
	local ok=0 f
	fresh_volume
	f=$CACHE/owned-by-venus
	cx_capture c "" --venus-cmd "touch $f && chown 0:65534 $f && stat -c %u:%g $f >$CACHE/first &&
exec $TESTVENUS -volume $VOL -cache $CACHE" -- true
	cx_capture d "" --venus-cmd "stat -c %u:%g $f >$CACHE/second &&
$PY -c 'import os, sys; st = os.fstat(os.open(sys.argv[1], os.O_RDONLY)); print(\"%d:%d\" % (st.st_uid, st.st_gid))' $f >$CACHE/third &&
exec $TESTVENUS -volume $VOL -cache $CACHE" -- true
	expect_rc c 0 || ok=1
	expect_rc d 0 || ok=1
	for run in first second third; do # stat, stat again, fstat
		if [ "$(cat "$CACHE/$run" 2>/dev/null)" != 0:65534 ]; then
			note "venus's stat in the $run look: $(cat "$CACHE/$run" 2>/dev/null)"
			ok=1
		fi
	done
	return $ok
}

# expect_vol TEXT: the volume's f.txt holds exactly TEXT (printf format).
expect_vol() {
	cmp -s <(printf "$1") "$VOL/f.txt" && return 0
	note "volume's f.txt is not '$1': $(head -c 200 "$VOL/f.txt" | od -c | head -3)"
	return 1
}

# unsent_write: run 1 of a disconnected venus on a fresh volume writes
# "new bytes\n" to f.txt and reads it back; it stays in venus's cache.
unsent_write() {
	local ok=0
	fresh_volume
	hx w1 -write-disconnected -- -- sh -c 'printf "new bytes\n" >/coda/f.txt && cat /coda/f.txt && stat -c %s /coda/f.txt'
	expect_rc w1 0 || ok=1
	expect_out w1 "new bytes
10" || ok=1
	expect_vol 'hello\n' || ok=1 # not stored: venus is disconnected
	return $ok
}

# Stock venus truncates at start every cache file not owned by 0:65534 with
# mode 0600 (ValidContainer); as nobody only fakeroot's record of venus's
# chown keeps the unsent bytes. Then a connected venus stores them.
t unsent_write_survives_a_venus_restart_and_is_stored_on_reintegration
unsent_write_survives_a_venus_restart_and_is_stored_on_reintegration() {
	local ok=0
	unsent_write || ok=1
	hx w2 -write-disconnected -- -- sh -c 'cat /coda/f.txt && stat -c %s /coda/f.txt'
	expect_rc w2 0 || ok=1
	expect_out w2 "new bytes
10" || ok=1
	expect_vol 'hello\n' || ok=1
	hx w3 -- -- cat /coda/f.txt
	expect_rc w3 0 || ok=1
	expect_out w3 "new bytes" || ok=1
	expect_vol 'new bytes\n' || ok=1
	if [ -e "$CACHE/CML" ] || compgen -G "$CACHE/cml.*" >/dev/null; then
		note "the log or a kept container is left after reintegration: $(ls "$CACHE")"
		ok=1
	fi
	return $ok
}

# lose_owner FILE: FILE is no longer owned by 0:65534 as venus sees it: as
# root really, as an ordinary user by removing fakeroot's record.
lose_owner() {
	if [ "$(id -u)" = 0 ]; then
		chown 0:0 "$1"
	else
		"$PY" -c 'import os, sys; os.removexattr(sys.argv[1], "user.coda-exec.owner")' "$1"
	fi
}

# The control of the test above: without the owner, the restart loses the
# bytes, so that test passing means the owner was kept.
t unsent_write_is_truncated_when_the_container_owner_is_lost
unsent_write_is_truncated_when_the_container_owner_is_lost() {
	local ok=0 f
	unsent_write || ok=1
	for f in "$CACHE"/cml.*; do
		lose_owner "$f" || { note "could not take the owner of $f away"; ok=1; }
	done
	hx w2 -write-disconnected -- -- sh -c 'cat /coda/f.txt && stat -c %s /coda/f.txt'
	expect_rc w2 0 || ok=1
	expect_out w2 "0" || ok=1
	expect_grep w2 err "fails the owner check" || ok=1
	expect_grep w2 err ": truncated" || ok=1
	return $ok
}

# expect_err_line TAG TEXT: stderr of TAG is the one line TEXT.
expect_err_line() {
	[ "$(cat "$T/$1.err")" = "$2" ] && return 0
	note "$1: stderr is not the one line '$2':"
	head -c 600 "$T/$1.err" >>"$DETAIL"
	return 1
}

# fails_at_start TIMEOUT CMD MESSAGE: coda-exec hosting CMD, a venus that
# never mounts, exits 125 with MESSAGE as its one line on stderr.
fails_at_start() {
	local ok=0
	fresh_volume
	cx_capture c "" --timeout "$1" --venus-cmd "$2" -- true
	expect_rc c 125 || ok=1
	expect_err_line c "$3" || ok=1
	return $ok
}

t venus_that_never_mounts_gives_one_line_and_125
venus_that_never_mounts_gives_one_line_and_125() {
	fails_at_start 2 'exec sleep 60' "coda-exec: venus did not mount within 2 s"
}

t venus_that_exits_at_start_gives_one_line_and_125
venus_that_exits_at_start_gives_one_line_and_125() {
	fails_at_start 5 'exit 3' "coda-exec: venus did not mount before it exited"
}

# venus_pids: the test venuses serving $CACHE (pgrep's status: 1 if none).
venus_pids() {
	pgrep -f "^$(sed_escape "$TESTVENUS") .*-cache $(sed_escape "$CACHE")( |\$)"
}

# expect_no_venus_within SECS: no test venus of $CACHE is left SECS seconds
# from now; one that is fails the test and is killed.
expect_no_venus_within() {
	local i left
	for ((i = 0; i < $1 * 10; i++)); do
		left=$(venus_pids) || return 0
		sleep 0.1
	done
	note "venus is still there $1 s later:"
	ps -o pid,ppid,pgid,stat,pcpu,args -p "$(echo $left | tr ' ' ,)" >>"$DETAIL"
	kill -KILL $left
	return 1
}

# A plain command line is exec'ed, no shell between: venus is coda-exec's
# child (and gets its PR_SET_PDEATHSIG).
t venus_of_the_readme_line_is_gone_when_coda_exec_ends
venus_of_the_readme_line_is_gone_when_coda_exec_ends() {
	local ok=0
	fresh_volume
	cx_capture c "" --venus-cmd "$TESTVENUS -nofork -k /dev/cfs0 -volume $VOL -cache $CACHE" \
		-- sh -c "$FIND_VENUS"'; ps -o comm= -p $v; cat /coda/f.txt'
	expect_rc c 0 || ok=1
	expect_out c "testvenus
hello" || ok=1
	expect_no_venus_within 5 || ok=1
	return $ok
}

# A shell runs this line and forks venus: coda-exec's child is the shell,
# and venus is the process that opens the device. It is stopped first, with
# its device still there (no "Failed to read upcall"), then the shell.
t venus_a_shell_forks_is_stopped_before_its_device_goes
venus_a_shell_forks_is_stopped_before_its_device_goes() {
	local ok=0
	fresh_volume
	cx_capture c "" --venus-cmd "$TESTVENUS -volume $VOL -cache $CACHE; echo shell after venus >&2" \
		-- cat /coda/f.txt
	expect_rc c 0 || ok=1
	expect_out c "hello" || ok=1
	expect_no_venus_within 5 || ok=1
	expect_grep c err "shell after venus" || ok=1
	if grep -q "Failed to read upcall" "$T/c.err"; then
		note "venus saw its device go away before it was stopped"
		ok=1
	fi
	return $ok
}

# kill -9 of coda-exec, venus exec'ed by it (PR_SET_PDEATHSIG) or forked by
# a shell: venus gets SIGTERM when coda-exec's end of the lifeline closes.
t venus_ends_when_coda_exec_is_killed
venus_ends_when_coda_exec_is_killed() {
	local ok=0 form line i sub
	for form in plain forked; do
		fresh_volume
		line="$TESTVENUS -volume $VOL -cache $CACHE"
		[ $form = plain ] || line+="; true"
		rm -f "$T/cmd.pid" "$T/cx.pid"
		(
			"$CODA_EXEC" --venus-cmd "$line" -- sh -c 'echo $$ >"$0/cmd.pid"; exec sleep 60' "$T" \
				>"$T/$form.out" 2>"$T/$form.err" &
			echo $! >"$T/cx.pid"
			wait
		) 2>/dev/null &
		sub=$!
		for ((i = 0; i < 100; i++)); do
			[ -s "$T/cmd.pid" ] && break
			sleep 0.1
		done
		if ! [ -s "$T/cmd.pid" ] || ! venus_pids >/dev/null; then
			note "$form: the command or venus did not start: $(cat "$T/$form.err")"
			ok=1
		fi
		kill -KILL "$(cat "$T/cx.pid")"
		wait $sub
		[ -s "$T/cmd.pid" ] && kill -KILL "$(cat "$T/cmd.pid")" 2>/dev/null
		expect_no_venus_within 5 || { note "  ($form line)"; ok=1; }
	done
	return $ok
}

# A home that cannot be written to: nothing is made there, and venus runs.
t venus_cmd_makes_no_embedded_venus_directory
venus_cmd_makes_no_embedded_venus_directory() {
	local ok=0 home=$WORK/home.$RANDOM
	fresh_volume
	make_dirs "$home"
	chmod 555 "$home"
	HOME=$home XDG_DATA_HOME='' XDG_CACHE_HOME='' cx_capture c "" \
		--venus-cmd "exec $TESTVENUS -volume $VOL -cache $CACHE" -- cat /coda/f.txt
	expect_rc c 0 || ok=1
	expect_out c "hello" || ok=1
	if [ -n "$(ls -A "$home")" ]; then
		note "made in \$HOME: $(cd "$home" && find . -mindepth 1 | head -5)"
		ok=1
	fi
	return $ok
}

if [ -n "$PROFILE" ]; then
	t venus_under_a_profile_that_denies_mount_gives_one_line_and_125
fi
venus_under_a_profile_that_denies_mount_gives_one_line_and_125() {
	local ok=0 real=$CODA_EXEC
	fresh_volume
	CODA_EXEC=$PROFILE cx_capture c "" "$real" \
		--venus-cmd "touch $T/started; exec $TESTVENUS -volume $VOL -cache $CACHE" -- true
	expect_rc c 125 || ok=1
	expect_err_line c "coda-exec: cannot host venus here: a seccomp filter coda-exec runs under (a container's profile?) answers mount(2) with Operation not permitted before coda-exec can trap venus's mount; let mount(2) through that profile (it mounts nothing without CAP_SYS_ADMIN)" || ok=1
	if [ -e "$T/started" ]; then
		note "venus was started"
		ok=1
	fi
	return $ok
}

warn_if_mount_exists
run_tests

if nobody_rerun_wanted; then
	nobody_prepare "$HERE/hosted.sh"
	nobody_copy_coda_exec
	cp -- "$TESTVENUS" "$N/bin/testvenus"
	cp -- "$PIOCTL" "$N/bin/pioctl"
	[ -z "$PROFILE" ] || cp -- "$PROFILE" "$N/bin/container_profile"
	rerun_as_nobody -- hosted.sh "$N/bin/coda-exec" "$N/bin/testvenus" "$N/bin/pioctl" \
		${PROFILE:+"$N/bin/container_profile"}
fi

report_totals
