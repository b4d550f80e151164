#!/bin/bash
# End-to-end suite: one venus for many jobs (coda-exec --serve, --attach,
# --stop).
#
#   tests/e2e/serve.sh CODA_EXEC TESTVENUS
#
# The scenarios: a file one job writes is read by a later job; two jobs at
# once each store their file, and a later job reads both; a job killed mid-run leaves the
# server serving, and one killed holding a file open for writing leaves no
# writer in venus (a later writer's bytes are stored); two jobs writing one
# file at once have it stored once, on the last close, with both jobs'
# bytes (embedded and hosted venus); --attach to nobody's socket says why
# with status 125;
# --stop and SIGTERM stop the server and remove its socket, and a second
# server is refused while one lives; a job attached when the server stops
# ends normally; a later job reads what an earlier one learned from the
# server's table in shared memory, with no upcall, and never the answer a
# change has made untrue; a job of another user cannot make upcalls as root
# (SO_PEERCRED) nor read the first user's answers; malformed records sent straight to the socket
# (serve_client.py) do not stop the server, and a fid whose directory was
# moved out of the volume behind a symlink reaches nothing outside it; with
# the test venus hosted as the server's venus (--venus-cmd), jobs read and
# write and see each other's files, --stop ends the server and venus both,
# and a venus that dies ends the server with one line. Run as root, the suite reruns
# itself as nobody (setpriv) on copies of the binaries. Last line "N passed,
# N failed"; CODA_E2E_FILTER=REGEX selects.
set -uo pipefail

[ $# -eq 2 ] || {
	echo "usage: $0 CODA_EXEC TESTVENUS" >&2
	exit 2
}
HERE=$(cd -- "$(dirname -- "$0")" && pwd -P)
. "$HERE/lib.sh"
CODA_EXEC=$(realpath -- "$1")
TESTVENUS=$(realpath -- "$2")

suite_start coda-e2e-serve
cp -- "$HERE/serve_client.py" "$WORK/serve_client.py"
chmod 755 "$WORK/serve_client.py"

# start_server [OPTIONS...]: a fresh volume (f.txt) and cache, and a server
# for them at $SOCK ($SERVER its pid, its stderr in $T/server.err), once its
# socket answers.
start_server() {
	new_volume 'a file in the volume\n'
	launch_server --volume "$VOL" --cache "$CACHE" "$@"
}

# start_hosted_server: the same with the test venus, hosted as a stock
# venus is (--venus-cmd), as the server's venus.
start_hosted_server() {
	new_volume 'a file in the volume\n'
	launch_server --venus-cmd "$TESTVENUS -volume $VOL -cache $CACHE"
}

# job TAG ARGS...: coda-exec --attach $SOCK ARGS (see cx_capture).
job() {
	local tag=$1
	shift
	cx_capture "$tag" "" --attach "$SOCK" "$@"
}

# expect_file PATH TEXT: PATH on the volume holds exactly TEXT (and a newline).
expect_file() {
	if [ "$(cat "$1" 2>&1)" = "$2" ]; then
		return 0
	fi
	note "$1 holds '$(head -c 200 "$1" 2>&1)', expected '$2'"
	return 1
}

# stored_when_stopped NAME TEXT: a last job reads /coda/NAME, the server
# stops, and both the job and the volume's NAME show exactly TEXT.
stored_when_stopped() {
	local ok=0
	job r -- cat "/coda/$1"
	stop_server
	expect_out r "$2" || ok=1
	expect_file "$VOL/$1" "$2" || ok=1
	return $ok
}

# expect_gone PID WHAT: PID exits within 10 s.
expect_gone() {
	for _ in $(seq 200); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.05
	done
	note "$2 (pid $1) still runs"
	return 1
}

t file_written_by_one_job_is_read_by_a_later_job
file_written_by_one_job_is_read_by_a_later_job() {
	local ok=0
	start_server || return 1
	job w -- sh -c 'echo written by the first job > /coda/new.txt'
	job r -- cat /coda/new.txt /coda/f.txt
	stop_server
	expect_rc w 0 || ok=1
	expect_rc r 0 || ok=1
	expect_out r "$(printf 'written by the first job\na file in the volume')" || ok=1
	expect_file "$VOL/new.txt" "written by the first job" || ok=1
	return $ok
}

# --trace on the server shows every job's upcalls, each with the job it is
# of (its coda-exec's pid) and the uid the server gave it.
t server_trace_shows_every_jobs_upcalls
server_trace_shows_every_jobs_upcalls() {
	local ok=0 uid
	uid=$(id -u)
	start_server --trace || return 1
	job a -- cat /coda/f.txt
	job b -- stat -c %s /coda/no-such-name
	stop_server
	expect_rc a 0 || ok=1
	expect_rc b 1 || ok=1
	grep -qE "^coda-exec: trace: job [0-9]+ upcall [0-9]+ LOOKUP uid=$uid pid=[0-9]+ fid=[0-9a-f.]+ name=f.txt -> 0 \(" "$T/server.err" || {
		note "no LOOKUP of f.txt in the server's trace:"
		head -c 800 "$T/server.err" >>"$DETAIL"
		ok=1
	}
	grep -qE "^coda-exec: trace: job [0-9]+ upcall [0-9]+ LOOKUP uid=$uid .* name=no-such-name -> ENOENT " "$T/server.err" || {
		note "no LOOKUP of the missing name answered ENOENT in the server's trace"
		ok=1
	}
	[ "$(grep -oE '^coda-exec: trace: job [0-9]+ ' "$T/server.err" | sort -u | wc -l)" = 2 ] || {
		note "the trace does not name two jobs"
		ok=1
	}
	return $ok
}

t two_jobs_at_once_see_their_own_and_each_others_files
two_jobs_at_once_see_their_own_and_each_others_files() {
	local ok=0 script
	start_server || return 1
	rm -f "$T/a.mark" "$T/b.mark"
	# Each stores its file and reads it back, then waits (10 s at most)
	# until the other has done so too (a mark on the host: a job's caches
	# may keep what it saw of the other's names, see README Differences).
	script='echo "from $1" > /coda/$1.txt && cat /coda/$1.txt && touch "$3/$1.mark" &&
		for i in $(seq 200); do [ -e "$3/$2.mark" ] && break; sleep 0.05; done &&
		[ -e "$3/$2.mark" ] && ls /coda/$1.txt'
	job a -- sh -c "$script" sh a b "$T" &
	job b -- sh -c "$script" sh b a "$T"
	wait $!
	job c -- cat /coda/a.txt /coda/b.txt
	stop_server
	expect_rc a 0 || ok=1
	expect_rc b 0 || ok=1
	expect_out a "$(printf 'from a\n/coda/a.txt')" || ok=1
	expect_out b "$(printf 'from b\n/coda/b.txt')" || ok=1
	expect_out c "$(printf 'from a\nfrom b')" || ok=1
	expect_file "$VOL/a.txt" "from a" || ok=1
	expect_file "$VOL/b.txt" "from b" || ok=1
	return $ok
}

# in_turn SCRIPT_A SCRIPT_B: jobs a and b at once, each a shell script
# that may call wait_mark NAME: wait (10 s at most) until the host file
# $T/NAME is there, the other job's mark that it has done its step.
in_turn() {
	local marks='wait_mark() { for i in $(seq 200); do [ -e "$T/$1" ] && return 0; sleep 0.05; done; return 1; }'
	rm -f "$T/looked" "$T/made" "$T/stored"
	T=$T job a -- sh -c "$marks
$1" &
	T=$T job b -- sh -c "$marks
$2"
	wait $!
}

# in_turn_sees A B WANT: on a fresh server, jobs a and b run A and B in turn
# (in_turn); both succeed, and a prints WANT.
in_turn_sees() {
	local ok=0
	start_server || return 1
	in_turn "$1" "$2"
	stop_server
	expect_rc b 0 || ok=1
	expect_rc a 0 || ok=1
	expect_out a "$3" || ok=1
	return $ok
}

# A name one job looked up and found missing, another job then makes: the
# first sees it, as on one kernel mount (the server sends the other jobs a
# ZAPDIR for the directory a job's CREATE changed).
t a_job_sees_a_name_another_job_made_after_it_looked
a_job_sees_a_name_another_job_made_after_it_looked() {
	in_turn_sees 'stat /coda/late.txt 2>/dev/null && exit 3
		touch "$T/looked"; wait_mark made && cat /coda/late.txt' \
		'wait_mark looked && echo made late > /coda/late.txt && touch "$T/made"' \
		'made late'
}

# The size a job saw of a file, another job then grows and stores: the
# first sees the stored size and bytes (ZAPFILE after the writer's CLOSE).
t a_job_sees_the_size_another_job_stored_after_it_looked
a_job_sees_the_size_another_job_stored_after_it_looked() {
	in_turn_sees 'stat -c %s /coda/f.txt; touch "$T/looked"
		wait_mark stored && stat -c %s /coda/f.txt && tail -n 1 /coda/f.txt' \
		'wait_mark looked && echo appended >> /coda/f.txt && touch "$T/stored"' \
		"$(printf '21\n30\nappended')"
}

# job_reads_twice START OPENS: with a server started by START, a job reads
# f.txt twice, and asks venus OPENS opens.
job_reads_twice() {
	local ok=0
	"$1" || return 1
	job c --trace -- sh -c 'cat /coda/f.txt; cat /coda/f.txt'
	stop_server
	expect_rc c 0 || ok=1
	expect_out c "$(printf 'a file in the volume\na file in the volume')" || ok=1
	expect_upcalls c OPEN_BY_FD "$2" || ok=1
	return $ok
}

# The server's embedded venus never rewrites a container in place, and
# says so at HELLO: a job keeps what it read, and asks venus to open an
# unchanged file once.
t attached_job_opens_an_unchanged_file_with_venus_once
attached_job_opens_an_unchanged_file_with_venus_once() {
	job_reads_twice start_server 1
}

# A server hosting a stock venus (here the test venus) says nothing of its
# containers: its jobs ask venus at every open.
t job_of_a_hosted_venus_server_asks_venus_at_every_open
job_of_a_hosted_venus_server_asks_venus_at_every_open() {
	job_reads_twice start_hosted_server 2
}

# A file and a directory a job has read (their containers kept by its
# supervisor), another job then changes: the first reads the new bytes and
# lists the new name (ZAPFILE and ZAPDIR from the server drop what it kept).
t a_job_reads_what_another_job_stored_after_it_read
a_job_reads_what_another_job_stored_after_it_read() {
	in_turn_sees 'cat /coda/f.txt; ls /coda; touch "$T/looked"
		wait_mark stored && cat /coda/f.txt && ls /coda' \
		'wait_mark looked && echo appended >> /coda/f.txt && : >/coda/new.txt && touch "$T/stored"' \
		"$(printf 'a file in the volume\nf.txt\na file in the volume\nappended\nf.txt\nnew.txt')"
}

# The steps of job I in directory D: files made, read, grown, renamed, a
# directory made, a file moved into it, one removed, the directory listed.
JOB_STEPS='i=$1 d=$2
for k in 1 2 3 4 5; do
	printf "job %s file %s\n" "$i" "$k" >"$d/f$i.$k"
	cat "$d/f$i.$k" >/dev/null
	echo more >>"$d/f$i.$k"
	mv "$d/f$i.$k" "$d/g$i.$k"
done
mkdir "$d/dir$i" && mv "$d/g$i.1" "$d/dir$i/" && rm "$d/g$i.2" && ls "$d" >/dev/null'

# Eight jobs at once in one directory leave the volume byte for byte as the
# same steps run one after another natively leave a plain directory.
t eight_jobs_at_once_leave_the_tree_of_the_same_steps_in_turn
eight_jobs_at_once_leave_the_tree_of_the_same_steps_in_turn() {
	local ok=0 i pids=()
	start_server || return 1
	mkdir -p "$VOL/t" "$WORK/native.$$" && rm -rf "$WORK/native.$$"/*
	for i in 1 2 3 4 5 6 7 8; do
		sh -c "$JOB_STEPS" sh "$i" "$WORK/native.$$" || ok=1
		job "j$i" -- sh -c "$JOB_STEPS" sh "$i" /coda/t &
		pids+=($!)
	done
	for i in "${pids[@]}"; do
		wait "$i"
	done
	stop_server
	for i in 1 2 3 4 5 6 7 8; do
		expect_rc "j$i" 0 || ok=1
	done
	if ! diff -r "$WORK/native.$$" "$VOL/t" >"$T/tree.diff" 2>&1; then
		note "the volume differs from the steps run in turn:"
		head -20 "$T/tree.diff" >>"$DETAIL"
		ok=1
	fi
	rm -rf "$WORK/native.$$"
	return $ok
}

# What venus answered one job, the next job reads itself from the server's
# table in shared memory: its lookups and stats of those names make no
# upcall at all (the server's trace shows only the first job's), its own
# trace says "shared answer", and it prints what stat prints natively.
t a_later_job_reads_what_an_earlier_job_learned_with_no_upcall
a_later_job_reads_what_an_earlier_job_learned_with_no_upcall() {
	local ok=0 names='f.txt d/g.txt no-such-name' native name stat
	start_server --trace || return 1
	make_dirs "$VOL/d"
	printf 'in d\n' >"$VOL/d/g.txt"
	native=$(cd "$VOL" && stat -c '%n %s %a %F' $names 2>/dev/null)
	stat="cd /coda && stat -c '%n %s %a %F' $names"
	job one -- sh -c "$stat"
	job two --trace -- sh -c "$stat"
	stop_server
	expect_out one "$native" || ok=1
	expect_out two "$native" || ok=1
	for name in f.txt g.txt no-such-name; do
		[ "$(grep -cE "^coda-exec: trace: job [0-9]+ .*upcall [0-9]+ LOOKUP .* name=$name -> " "$T/server.err")" = 1 ] || {
			note "the server saw other than one LOOKUP of $name:"
			grep "name=$name" "$T/server.err" >>"$DETAIL"
			ok=1
		}
		grep -qE "^coda-exec: trace: \(shared answer\) upcall [0-9]+ LOOKUP .* name=$name -> " "$T/two.err" || {
			note "the second job did not read its LOOKUP of $name from the shared table"
			ok=1
		}
	done
	if grep -qE '^coda-exec: trace: upcall [0-9]+ (LOOKUP|GETATTR|ACCESS) ' "$T/two.err" ||
		! grep -qE '^coda-exec: trace: \(shared answer\) upcall [0-9]+ GETATTR ' "$T/two.err"; then
		note "the second job sent upcalls the first job's answers answer:"
		grep -E 'trace: upcall' "$T/two.err" | head -5 >>"$DETAIL"
		ok=1
	fi
	return $ok
}

# CODA_REPLACE gives an object a new fid (in Coda, a local object
# reintegrated): the kept LOOKUP that gave the old fid, filed about its
# directory, goes too, as the jobs' own caches drop everything. The test
# venus sends a REPLACE about f.txt after the first job's GETATTR of it
# (its fourth upcall).
t replace_downcall_drops_kept_lookups_of_the_old_fid
replace_downcall_drops_kept_lookups_of_the_old_fid() {
	local ok=0 fid
	new_volume 'a file in the volume\n'
	launch_server --trace --venus-cmd "$TESTVENUS -volume $VOL -cache $CACHE -downcall-after 4:replace" ||
		return 1
	job one -- stat -c %s /coda/f.txt
	job two -- stat -c %s /coda/f.txt
	stop_server
	expect_out one 21 || ok=1
	expect_out two 21 || ok=1
	fid=$(sed -n 's/^coda-exec: trace: job [0-9]* upcall 4 GETATTR .* fid=\([0-9a-f.]*\) .*/\1/p' "$T/server.err")
	if [ -z "$fid" ] || ! grep -q "downcall REPLACE fid=$fid " "$T/server.err"; then
		note "no REPLACE about f.txt's fid ($fid) after the first job's GETATTR:"
		grep -E 'trace:|testvenus' "$T/server.err" | head -20 >>"$DETAIL"
		return 1
	fi
	if [ "$(grep -cE '^coda-exec: trace: job [0-9]+ upcall [0-9]+ LOOKUP .* name=f.txt ' "$T/server.err")" != 2 ]; then
		note "the second job's LOOKUP of f.txt did not reach venus: answered as before the REPLACE"
		ok=1
	fi
	return $ok
}

# An attached job's call waits as long as venus works on it, as a run's
# does: the server names venus's pid at HELLO, and the job looks at its
# scheduling. A store of 2 GiB takes seconds here; before, --timeout 1
# failed the job's close after a second with "venus made no progress".
t attached_job_waits_for_a_venus_that_works_longer_than_its_timeout
attached_job_waits_for_a_venus_that_works_longer_than_its_timeout() {
	local ok=0 size
	start_server || return 1
	job big --timeout 1 -- sh -c 'dd if=/dev/zero of=/coda/big bs=1M count=2048 status=none && echo written'
	stop_server
	expect_rc big 0 || ok=1
	expect_out big written || ok=1
	expect_text big err "" || ok=1
	size=$(stat -c %s "$VOL/big" 2>&1)
	[ "$size" = 2147483648 ] || {
		note "the volume's big holds $size bytes, not 2 GiB"
		ok=1
	}
	rm -f "$VOL/big"
	return $ok
}

t kept_answers_follow_every_jobs_changes
kept_answers_follow_every_jobs_changes() {
	local ok=0
	start_server || return 1
	printf 'x\n' >"$VOL/gone.txt"
	job look -- stat -c '%n %s' /coda/f.txt /coda/gone.txt /coda/dir-to-be
	job change -- sh -c 'echo grown >> /coda/f.txt && rm /coda/gone.txt && mkdir /coda/dir-to-be'
	job after -- sh -c 'stat -c "%n %s" /coda/f.txt; stat /coda/gone.txt 2>/dev/null || echo gone; stat -c %F /coda/dir-to-be'
	stop_server
	expect_rc change 0 || ok=1
	expect_out after "$(printf '/coda/f.txt 27\ngone\ndirectory')" || ok=1
	return $ok
}

# LOOK: what the jobs of the next test print of the names they look at,
# a line each: its name, size and mode, or "NAME missing". CHANGE: the
# changes one of them makes.
LOOK='for n in f.txt new.txt old.txt renamed.txt gone.txt mode.txt; do
	stat -c "%n %s %a" "$n" 2>/dev/null || echo "$n missing"
done'
CHANGE='echo grown >> f.txt && echo new > new.txt && mv old.txt renamed.txt && rm gone.txt &&
	chmod 600 mode.txt'

# A change one job makes (a write's store, a create, a rename, a remove, a
# chmod) drops the shared answers it makes untrue before anyone hears of
# it: a job that waits on a fifo the changing job writes once its change
# is done, and a job started after it, see what the same steps leave
# natively, never the answers a first job left in the table.
t shared_answers_follow_every_jobs_changes_at_once_and_after
shared_answers_follow_every_jobs_changes_at_once_and_after() {
	local ok=0 native=$WORK/native.$RANDOM expected
	start_server || return 1
	mkdir -p "$native"
	cp "$VOL/f.txt" "$native/"
	for d in "$VOL" "$native"; do
		printf 'x\n' >"$d/old.txt"
		printf 'x\n' >"$d/gone.txt"
		printf 'x\n' >"$d/mode.txt"
		chmod 644 "$d/mode.txt"
	done
	(cd "$native" && sh -c "$CHANGE") || ok=1
	expected=$(cd "$native" && sh -c "$LOOK")
	rm -rf -- "$native"
	rm -f "$T/changed" && mkfifo "$T/changed"
	job first -- sh -c "cd /coda && $LOOK"
	job during -- sh -c "cd /coda && read go < $T/changed && $LOOK" &
	job change -- sh -c "cd /coda && $CHANGE && echo done > $T/changed"
	wait $!
	job after -- sh -c "cd /coda && $LOOK"
	stop_server
	expect_rc change 0 || ok=1
	expect_out first "$(printf 'f.txt 21 644\nnew.txt missing\nold.txt 2 644\nrenamed.txt missing\ngone.txt 2 644\nmode.txt 2 644')" || ok=1
	expect_out during "$expected" || ok=1
	expect_out after "$expected" || ok=1
	return $ok
}

# One table per uid: a job of another user attached to the same server
# (the socket open to all) reads none of the first user's answers, and its
# stat of the same name makes its own upcalls to venus, as that uid.
[ "$(id -u)" = 0 ] && t job_of_another_user_reads_none_of_the_first_users_answers
job_of_another_user_reads_none_of_the_first_users_answers() {
	local ok=0
	start_server --trace || return 1
	chmod 755 "$(dirname "$SOCK")"
	chmod 666 "$SOCK"
	# The root's GETATTR too: the embedded venus answers f.txt's LOOKUP
	# with its attributes, and nothing names the root.
	job root -- sh -c "stat -c '%n %s' /coda/f.txt && stat -c %F /coda"
	setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$CODA_EXEC" --attach "$SOCK" --trace -- sh -c "stat -c '%n %s' /coda/f.txt && stat -c %F /coda" \
		>"$T/nobodys.out" 2>"$T/nobodys.err"
	echo $? >"$T/nobodys.rc"
	stop_server
	expect_out root "$(printf '/coda/f.txt 21\ndirectory')" || ok=1
	expect_rc nobodys 0 || ok=1
	expect_out nobodys "$(printf '/coda/f.txt 21\ndirectory')" || ok=1
	if grep -q 'shared answer' "$T/nobodys.err" ||
		grep -qE '^coda-exec: trace: job [0-9]+ \(kept answer\)' "$T/server.err"; then
		note "the other user's job was answered from the first user's answers:"
		grep -E 'shared answer' "$T/nobodys.err" | head -5 >>"$DETAIL"
		grep -E 'kept answer' "$T/server.err" | head -5 >>"$DETAIL"
		ok=1
	fi
	for op in LOOKUP GETATTR; do
		grep -qE "^coda-exec: trace: job [0-9]+ upcall [0-9]+ $op uid=65534 " "$T/server.err" || {
			note "no $op of the other user's reached venus"
			ok=1
		}
	done
	return $ok
}

# A server needs no capability once its socket is made and venus started;
# its venus keeps, of root's, only what serving a volume of any owner takes.
t server_keeps_no_capability_and_its_venus_only_what_it_needs
server_keeps_no_capability_and_its_venus_only_what_it_needs() {
	local ok=0 c server venus=
	start_server || return 1
	job r -- cat /coda/f.txt
	server=$(caps_of "$SERVER")
	for c in $(cat "/proc/$SERVER/task/$SERVER/children"); do
		[ "$(cat "/proc/$c/comm")" = coda-venus ] && venus=$(caps_of "$c")
	done
	stop_server
	expect_rc r 0 || ok=1
	if [ "$server" != "0000000000000000 0000000000000000" ]; then
		note "the server keeps capabilities (CapPrm CapEff): $server"
		ok=1
	fi
	if [ "$venus" != "$(venus_caps_wanted)" ]; then
		note "its venus keeps '$venus', expected '$(venus_caps_wanted)'"
		ok=1
	fi
	return $ok
}

t job_killed_mid_run_leaves_the_server_serving
job_killed_mid_run_leaves_the_server_serving() {
	local ok=0 victim
	start_server || return 1
	make_dirs "$VOL/d"
	# The job's coda-exec and its command in a group of their own, killed
	# together while they make upcalls.
	(setsid "$CODA_EXEC" --attach "$SOCK" -- sh -c \
		'while :; do echo x > /coda/d/f.$((i += 1)); ls /coda/d >/dev/null; done' \
		>/dev/null 2>&1 &
	echo $! >"$T/victim") 2>/dev/null
	victim=$(cat "$T/victim")
	for _ in $(seq 200); do
		[ "$(ls "$VOL/d" | wc -l)" -ge 20 ] && break
		sleep 0.05
	done
	kill -KILL -- "-$victim"
	expect_gone "$victim" "the killed job" || ok=1
	job next -- sh -c 'echo after > /coda/after.txt && cat /coda/after.txt /coda/f.txt'
	kill -0 "$SERVER" 2>/dev/null || {
		note "the server has gone: $(cat "$T/server.err")"
		ok=1
	}
	stop_server
	[ "$(ls "$VOL/d" | wc -l)" -ge 20 ] || {
		note "the killed job wrote only $(ls "$VOL/d" | wc -l) files"
		ok=1
	}
	expect_rc next 0 || ok=1
	expect_out next "$(printf 'after\na file in the volume')" || ok=1
	return $ok
}

# killed_holding REDIRECTION: a job whose command holds a /coda file open
# on fd 3 (sh's exec REDIRECTION), killed (its coda-exec and its command)
# once it has: it sends no CODA_CLOSE. $VICTIM is its coda-exec's pid.
killed_holding() {
	(setsid "$CODA_EXEC" --attach "$SOCK" -- sh -c "exec $1 && echo held && exec sleep 60" \
		>"$T/victim.out" 2>&1 &
	echo $! >"$T/victim") 2>/dev/null
	VICTIM=$(cat "$T/victim")
	for _ in $(seq 200); do
		grep -q held "$T/victim.out" && break
		sleep 0.05
	done
	grep -q held "$T/victim.out" || note "the job did not open: $(cat "$T/victim.out")"
	# Its group, as setsid made it. Once in CI (ASan, as root) there was no
	# such group, and the job lived on: then its command and its coda-exec
	# die by pid.
	kill -KILL -- "-$VICTIM" 2>/dev/null || {
		pkill -KILL -P "$VICTIM"
		kill -KILL "$VICTIM"
	}
	expect_gone "$VICTIM" "the killed job"
}

# killed_writer_then_writer: on the server started, a job killed while it
# writes a file leaves no writer behind in venus: the server closes its
# open, as the kernel releases a dead process's files, so the next writer's
# close is the last and stores.
killed_writer_then_writer() {
	local ok=0
	killed_holding '3>>/coda/held.txt && echo by the killed job >&3' || ok=1
	job w -- sh -c 'echo by the next job > /coda/held.txt'
	stored_when_stopped held.txt "by the next job" || ok=1
	expect_rc w 0 || ok=1
	return $ok
}

t job_killed_holding_a_file_for_writing_leaves_later_writes_stored
job_killed_holding_a_file_for_writing_leaves_later_writes_stored() {
	start_server || return 1
	killed_writer_then_writer
}

# The same with a hosted venus, which counts opens as a stock venus does.
t job_killed_holding_a_file_for_writing_leaves_a_hosted_venus_storing_later_writes
job_killed_holding_a_file_for_writing_leaves_a_hosted_venus_storing_later_writes() {
	start_hosted_server || return 1
	killed_writer_then_writer
}

t attach_to_a_socket_nobody_serves_says_why_with_125
attach_to_a_socket_nobody_serves_says_why_with_125() {
	local ok=0 stale=$WORK/stale.$RANDOM
	SOCK=$WORK/missing.$RANDOM
	job missing -- true
	expect_rc missing 125 || ok=1
	expect_text missing err "coda-exec: --attach $SOCK: no server listens there: no such socket (start one with coda-exec --serve $SOCK)" || ok=1
	# A socket file left by a server that has gone.
	"$PY" -c 'import socket, sys; socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET).bind(sys.argv[1])' "$stale"
	SOCK=$stale
	job stale -- true
	expect_rc stale 125 || ok=1
	expect_text stale err "coda-exec: --attach $SOCK: no server listens there: a stale socket, or no socket (start one with coda-exec --serve $SOCK)" || ok=1
	return $ok
}

t attach_to_another_programs_socket_says_so_with_125
attach_to_another_programs_socket_says_so_with_125() {
	local ok=0
	SOCK=$WORK/other.$RANDOM
	# A program that takes the connection and closes it unanswered.
	"$PY" -c 'import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.bind(sys.argv[1])
s.listen()
print(flush=True)
s.accept()[0].close()' "$SOCK" >"$T/other.out" &
	local other=$!
	while [ ! -s "$T/other.out" ] && kill -0 "$other" 2>/dev/null; do
		sleep 0.05
	done
	job other -- true
	wait "$other"
	expect_rc other 125 || ok=1
	expect_text other err "coda-exec: --attach $SOCK: not a coda-exec server: it closed the connection (give the socket of coda-exec --serve)" || ok=1
	return $ok
}

# expect_server_gone: the server has exited with status 0, its socket and
# its venus with it.
expect_server_gone() {
	local ok=0 rc
	expect_gone "$SERVER" "the server" || return 1
	wait "$SERVER"
	rc=$?
	drop_sanitizer_notes "$T/server.err"
	[ "$rc" = 0 ] || {
		note "the server exited with $rc: $(cat "$T/server.err")"
		ok=1
	}
	[ ! -e "$SOCK" ] || {
		note "the socket $SOCK is still there"
		ok=1
	}
	if pgrep -f "coda-venus.*$VOL" >/dev/null; then
		note "venus outlived the server"
		ok=1
	fi
	return $ok
}

t stop_ends_the_server_and_removes_its_socket
stop_ends_the_server_and_removes_its_socket() {
	local ok=0
	start_server || return 1
	job w -- sh -c 'echo stored > /coda/s.txt'
	expect_rc w 0 || ok=1
	cx_capture stop "" --stop "$SOCK"
	expect_rc stop 0 || ok=1
	expect_text stop err "" || ok=1
	expect_server_gone || ok=1
	expect_file "$VOL/s.txt" stored || ok=1
	cx_capture again "" --stop "$SOCK"
	expect_rc again 125 || ok=1
	expect_text again err "coda-exec: --stop $SOCK: no server listens there: no such socket (nothing to stop; a server is started with coda-exec --serve $SOCK)" || ok=1
	return $ok
}

t sigterm_ends_the_server_and_removes_its_socket
sigterm_ends_the_server_and_removes_its_socket() {
	local ok=0
	start_server || return 1
	job r -- cat /coda/f.txt
	kill -TERM "$SERVER"
	expect_server_gone || ok=1
	expect_out r "a file in the volume" || ok=1
	return $ok
}

t job_attached_as_soon_as_the_socket_shows_is_served
job_attached_as_soon_as_the_socket_shows_is_served() {
	local ok=0
	# The server's listen(2) held back half a second: its socket file must
	# not show before a connect is let in. (LeakSanitizer cannot work under
	# a tracer: it would fail the server's exit in a sanitizer build.)
	SERVER_WRAPPER=(env "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
		strace -qq -o /dev/null -e trace=listen -e inject=listen:delay_enter=500000)
	start_server || ok=1
	SERVER_WRAPPER=()
	job r -- cat /coda/f.txt
	# $SERVER is strace: a server it leaves behind is killed by name.
	stop_server || {
		ok=1
		note "the server did not stop cleanly: $(cat "$T/server.err")"
		pkill -KILL -f -- "--serve $SOCK"
	}
	expect_rc r 0 || ok=1
	expect_out r "a file in the volume" || ok=1
	return $ok
}

t a_second_server_on_a_live_socket_is_refused
a_second_server_on_a_live_socket_is_refused() {
	local ok=0
	start_server || return 1
	cx_capture second "" --serve "$SOCK" --volume "$VOL" --cache "$CACHE.2"
	job r -- cat /coda/f.txt
	stop_server
	expect_rc second 125 || ok=1
	expect_text second err "coda-exec: --serve $SOCK: a server already answers there (stop it with coda-exec --stop $SOCK, or give another path)" || ok=1
	expect_out r "a file in the volume" || ok=1
	return $ok
}

t job_attached_when_the_server_stops_ends_normally
job_attached_when_the_server_stops_ends_normally() {
	local ok=0 jobpid
	start_server || return 1
	rm -f "$T/held.out"
	STDIN=/dev/null job held -- sh -c 'cat /coda/f.txt; echo ready > '"$T/held.ready"';
		while [ ! -e '"$T/held.go"' ]; do sleep 0.05; done; cat /coda/f.txt; echo status $?' &
	jobpid=$!
	for _ in $(seq 200); do
		[ -e "$T/held.ready" ] && break
		sleep 0.05
	done
	stop_server
	touch "$T/held.go"
	wait "$jobpid"
	rm -f "$T/held.ready" "$T/held.go"
	expect_rc held 0 || ok=1
	expect_out held "$(printf 'a file in the volume\nstatus 1')" || ok=1
	expect_grep held err "venus has gone away" || ok=1
	return $ok
}

# (as root only: it needs a root server and a job of nobody's)
[ "$(id -u)" = 0 ] && t job_of_another_user_cannot_make_upcalls_as_root
job_of_another_user_cannot_make_upcalls_as_root() {
	local ok=0 fid
	start_server || return 1
	chmod 755 "$(dirname "$SOCK")"
	chmod 666 "$SOCK"
	printf 'root data\n' >"$VOL/rootfile"
	chmod 644 "$VOL/rootfile"
	fid=$("$PY" "$WORK/serve_client.py" fid "$SOCK" f.txt) || ok=1
	setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$PY" "$WORK/serve_client.py" spoof "$SOCK" rootfile "$fid" >"$T/spoof.out" 2>"$T/spoof.err"
	echo $? >"$T/spoof.rc"
	stop_server
	expect_rc spoof 0 || ok=1
	expect_text spoof out "$(printf "LOOKUP OK\nSETATTR size 0 as uid 0: EACCES\nanother user's fid: ESTALE")" || ok=1
	expect_file "$VOL/rootfile" "root data" || ok=1
	return $ok
}

# A directory a job has a fid of, moved out of the volume by someone who may
# write the volume directory and replaced by a symlink to where it went: the
# fid's path now leads out of the volume, and venus must follow it nowhere
# (raw upcalls, serve_client.py escape).
t directory_moved_out_of_the_volume_behind_a_symlink_is_gone
directory_moved_out_of_the_volume_behind_a_symlink_is_gone() {
	local ok=0 out=$WORK/out.$RANDOM
	start_server || return 1
	make_dirs "$VOL/d/e" "$out"
	timeout -k 5 60 "$PY" "$WORK/serve_client.py" escape "$SOCK" "$VOL" "$out" \
		>"$T/escape.out" 2>"$T/escape.err"
	echo $? >"$T/escape.rc"
	job r -- cat /coda/f.txt
	stop_server
	expect_rc escape 0 || ok=1
	expect_text escape out "LOOKUP of a name outside the volume: ENOENT
CREATE outside the volume: ENOENT" || ok=1
	[ ! -e "$out/d/e/made" ] || {
		note "venus created $out/d/e/made, outside the volume"
		ok=1
	}
	expect_out r "a file in the volume" || ok=1
	rm -rf -- "$out"
	return $ok
}

t malformed_records_do_not_stop_the_server
malformed_records_do_not_stop_the_server() {
	local ok=0
	start_server || return 1
	timeout -k 5 60 "$PY" "$WORK/serve_client.py" malformed "$SOCK" \
		>"$T/bad.out" 2>"$T/bad.err"
	echo $? >"$T/bad.rc"
	job r -- cat /coda/f.txt
	stop_server
	expect_rc bad 0 || ok=1
	expect_text bad out "short record: closed; then a new job: served
oversized record: closed; then a new job: served
unknown opcode: ENOTSUP; then a new job: served
downcall opcode: ENOTSUP; then a new job: served
upcall shorter than its opcode's: EINVAL; then a new job: served
name offset past the end: EINVAL; then a new job: served
name offset inside the header: EINVAL; then a new job: served
name without NUL: EINVAL; then a new job: served
name with '/': EINVAL; then a new job: served
name with '/' before its NUL: EINVAL; then a new job: served
name longer than 255: ENAMETOOLONG; then a new job: served
the same unique twice: OK; then a new job: served
CODA_SIGNAL for a unique never sent: OK; then a new job: served
a fid made up: ESTALE; then a new job: served
another job's fid, of the same user: OK; then a new job: served
flood: jobs during it: served, served, served" || ok=1
	expect_out r "a file in the volume" || ok=1
	return $ok
}

# hosted_pids: the pids of the server's child that hosts venus ($HOST) and
# of venus itself ($HOSTED_VENUS), its child.
hosted_pids() {
	HOST= HOSTED_VENUS=
	read -r HOST _ <"/proc/$SERVER/task/$SERVER/children"
	[ -n "$HOST" ] && read -r HOSTED_VENUS _ <"/proc/$HOST/task/$HOST/children"
	[ -n "$HOST" ] && [ -n "$HOSTED_VENUS" ] && return 0
	note "no hosting child and venus under the server: '$HOST' '$HOSTED_VENUS'"
	return 1
}

# writers_of_one_file: on the server started, job a holds /coda/w.txt open
# for writing while job b appends to it and ends: as on one kernel mount
# venus stores on the last writer's close, so nothing is stored when b
# ends, and a's later bytes are not lost to a store made at b's close.
writers_of_one_file() {
	local ok=0
	VOL=$VOL in_turn 'exec 3>>/coda/w.txt && echo a1 >&3 && touch "$T/looked" && wait_mark made &&
		{ [ ! -s "$VOL/w.txt" ] || echo "stored while a wrote"; } && echo a2 >&3' \
		'wait_mark looked && echo b >>/coda/w.txt && touch "$T/made"'
	stored_when_stopped w.txt "$(printf 'a1\nb\na2')" || ok=1
	expect_rc a 0 || ok=1
	expect_rc b 0 || ok=1
	expect_out a "" || ok=1
	return $ok
}

t two_jobs_writing_one_file_store_it_once_on_the_last_close
two_jobs_writing_one_file_store_it_once_on_the_last_close() {
	start_server || return 1
	writers_of_one_file
}

# The same with a hosted venus: its own writable open of the container,
# closed when it replies, is not a job's release either.
t two_jobs_writing_one_file_store_it_once_on_the_last_close_with_a_hosted_venus
two_jobs_writing_one_file_store_it_once_on_the_last_close_with_a_hosted_venus() {
	start_hosted_server || return 1
	writers_of_one_file
}

t hosted_venus_serves_jobs_that_see_each_others_stored_files
hosted_venus_serves_jobs_that_see_each_others_stored_files() {
	local ok=0
	start_hosted_server || return 1
	job a -- sh -c 'cat /coda/f.txt && echo from a > /coda/a.txt'
	job b -- sh -c 'cat /coda/a.txt && echo from b >> /coda/a.txt && echo from b > /coda/b.txt'
	job c -- sh -c 'cat /coda/a.txt /coda/b.txt && ls /coda'
	stop_server
	expect_rc a 0 || ok=1
	expect_rc b 0 || ok=1
	expect_rc c 0 || ok=1
	expect_out a "a file in the volume" || ok=1
	expect_out b "from a" || ok=1
	expect_out c "$(printf 'from a\nfrom b\nfrom b\na.txt\nb.txt\nf.txt')" || ok=1
	expect_file "$VOL/a.txt" "$(printf 'from a\nfrom b')" || ok=1
	expect_file "$VOL/b.txt" "from b" || ok=1
	return $ok
}

t stop_ends_a_hosted_venus_server_and_its_venus
stop_ends_a_hosted_venus_server_and_its_venus() {
	local ok=0 p
	start_hosted_server || return 1
	job w -- sh -c 'echo stored > /coda/s.txt'
	expect_rc w 0 || ok=1
	hosted_pids || {
		stop_server
		return 1
	}
	cx_capture stop "" --stop "$SOCK"
	expect_rc stop 0 || ok=1
	expect_text stop err "" || ok=1
	# --stop returns once venus has stopped: nothing is left of it.
	for p in "$HOST" "$HOSTED_VENUS"; do
		if kill -0 "$p" 2>/dev/null; then
			note "pid $p ($(cat "/proc/$p/comm")) is still there after --stop"
			ok=1
		fi
	done
	expect_server_gone || ok=1
	expect_text server err "" || ok=1
	expect_file "$VOL/s.txt" stored || ok=1
	return $ok
}

t hosted_venus_that_dies_ends_the_server_with_one_line
hosted_venus_that_dies_ends_the_server_with_one_line() {
	local ok=0 rc
	start_hosted_server || return 1
	job r -- cat /coda/f.txt
	hosted_pids || {
		stop_server
		return 1
	}
	kill -KILL "$HOSTED_VENUS"
	expect_gone "$SERVER" "the server" || kill -KILL "$SERVER"
	wait "$SERVER"
	rc=$?
	drop_sanitizer_notes "$T/server.err"
	expect_gone "$HOST" "the hosting child" || ok=1
	[ "$rc" = 125 ] || {
		note "the server exited with $rc, expected 125"
		ok=1
	}
	expect_text server err "coda-exec: --serve $SOCK: venus has gone away" || ok=1
	job late -- cat /coda/f.txt
	expect_rc r 0 || ok=1
	expect_out r "a file in the volume" || ok=1
	expect_rc late 125 || ok=1
	expect_text late err "coda-exec: --attach $SOCK: no server listens there: no such socket (start one with coda-exec --serve $SOCK)" || ok=1
	return $ok
}

warn_if_mount_exists
run_tests

if nobody_rerun_wanted; then
	nobody_prepare "$HERE/serve.sh" "$HERE/serve_client.py"
	nobody_copy_coda_exec
	cp -- "$TESTVENUS" "$N/bin/testvenus"
	rerun_as_nobody -- serve.sh "$N/bin/coda-exec" "$N/bin/testvenus"
fi
report_totals
