#!/bin/bash
# End-to-end suite: libcodaclient, Coda with no trap, against a coda-exec
# --serve server.
#
#   tests/e2e/libclient.sh CODA_EXEC LIBCLIENT
#
# LIBCLIENT (tests/e2e/libclient.c) makes steps with the library on paths
# under /coda, or with --native the same steps with libc on a plain
# directory. The scenarios: its steps (create, write, append, read, list,
# stat, lstat, readlink, mkdir, rename, unlink, their errors) print the same
# as natively and leave the volume as they leave the plain directory; a
# library client and trapped jobs (coda-exec --attach) on one server each
# read what the other stored and see its renames and removals; a library
# client holding a file keeps its bytes when a job rewrites it, and sees a
# job's append; a library client and a job writing one file at once have it
# stored once, at the last close, with both writers' bytes; a client that exits holding files open (for writing, 40 of
# them, or for reading) has each closed by the server, so later writers'
# bytes are stored; a socket nobody serves is an error of every call. Run as root, the suite reruns
# itself as nobody (setpriv) on copies of the binaries. Last line "N passed,
# N failed"; CODA_E2E_FILTER=REGEX selects.
set -uo pipefail

[ $# -eq 2 ] || {
	echo "usage: $0 CODA_EXEC LIBCLIENT" >&2
	exit 2
}
HERE=$(cd -- "$(dirname -- "$0")" && pwd -P)
. "$HERE/lib.sh"
CODA_EXEC=$(realpath -- "$1")
LIBCLIENT=$(realpath -- "$2")

suite_start coda-e2e-libclient

# start_server [OPTIONS...]: a fresh volume (f.txt, ln -> f.txt, sub/) and
# cache, and a server for them at $SOCK ($SERVER its pid, its stderr in
# $T/server.err), once its socket answers.
start_server() {
	new_volume 'a file in the volume\n'
	ln -s f.txt "$VOL/ln"
	make_dirs "$VOL/sub"
	launch_server --volume "$VOL" --cache "$CACHE" "$@"
}

# lib TAG STEPS...: the library's steps under /coda, no coda-exec around
# them, its output in $T/TAG.out, .err, .rc.
lib() {
	local tag=$1
	shift
	(
		CODA_SOCKET=$SOCK timeout -k 5 "$TMO" "$LIBCLIENT" /coda "$@" \
			>"$T/$tag.out" 2>"$T/$tag.err"
		echo $? >"$T/$tag.rc"
	) 2>/dev/null
}

# attached SCRIPT: the command line of a job running SCRIPT on the server,
# for the library's `run` step.
attached() {
	printf "'%s' --attach '%s' -- sh -c '%s'" "$CODA_EXEC" "$SOCK" "$1"
}

# job TAG ARGS...: coda-exec --attach $SOCK ARGS (see cx_capture).
job() {
	local tag=$1
	shift
	cx_capture "$tag" "" --attach "$SOCK" "$@"
}

# tree DIR: each object of DIR with its type, mode, size, link target and
# bytes, one a line.
tree() {
	(cd "$1" && find . -mindepth 1 -printf '%y %m %s %p %l\n' | sort &&
		find . -type f -exec md5sum {} + | sort -k2)
}

# same_tree A B: the trees of A and B are the same.
same_tree() {
	tree "$1" >"$T/tree.a"
	tree "$2" >"$T/tree.b"
	cmp -s "$T/tree.a" "$T/tree.b" && return 0
	note "the volume differs from the plain directory:"
	diff -u "$T/tree.a" "$T/tree.b" | head -40 >>"$DETAIL"
	return 1
}

STEPS=(cat f.txt write new.txt 'written by the library' append new.txt ', and more'
	cat new.txt stat new.txt stat f.txt lstat ln stat ln readlink ln readlink f.txt
	mkdir dir mkdir dir mkdir no/dir ls . ls sub ls f.txt mv new.txt dir/moved.txt
	ls dir cat dir/moved.txt cat new.txt excl dir/e excl dir/e stat dir/e
	write sub/gone 'to be removed' rm sub/gone rm sub/gone rm dir mv dir sub/dir
	ls sub/dir stat nothing lstat nothing cat sub/dir/moved.txt)

t library_steps_print_and_store_what_libc_does_on_a_plain_directory
library_steps_print_and_store_what_libc_does_on_a_plain_directory() {
	local ok=0 plain=$WORK/plain.$RANDOM
	start_server || return 1
	cp -a -- "$VOL" "$plain"
	lib coda "${STEPS[@]}"
	(cd "$plain" && "$LIBCLIENT" --native "$plain" "${STEPS[@]}" >"$T/plain.out" \
		2>"$T/plain.err"; echo $? >"$T/plain.rc")
	# the volume while the server still serves: coda_close stored it
	same_tree "$plain" "$VOL" || ok=1
	stop_server
	same_outputs plain coda "the library's steps" || ok=1
	expect_grep coda out "cat dir/moved.txt: [written by the library, and more]" || ok=1
	return $ok
}

t library_client_and_trapped_jobs_see_each_others_files
library_client_and_trapped_jobs_see_each_others_files() {
	local ok=0
	start_server || return 1
	# each ends on a write: coda_close has stored it when the program exits
	lib l1 cat f.txt write lib.txt 'from the library'
	job j1 -- sh -c 'cat /coda/lib.txt; echo; echo from a job > /coda/job.txt; mv /coda/lib.txt /coda/sub/lib.txt'
	lib l2 cat job.txt ls sub cat sub/lib.txt cat lib.txt rm sub/lib.txt append job.txt 'and the library'
	job j2 -- sh -c 'cat /coda/job.txt; echo; ls /coda/sub'
	stop_server
	expect_rc j1 0 || ok=1
	expect_out j1 "from the library" || ok=1
	expect_out l2 "$(printf '%s\n' 'cat job.txt: [from a job' ']' \
		'ls sub: [. 4] [.. 4] [lib.txt 8]' 'cat sub/lib.txt: [from the library]' \
		'cat lib.txt: No such file or directory' 'rm sub/lib.txt: ok' 'append job.txt: ok')" || ok=1
	expect_out j2 "$(printf 'from a job\nand the library')" || ok=1
	[ "$(cat "$VOL/job.txt")" = "$(printf 'from a job\nand the library')" ] || {
		note "the volume's job.txt holds '$(cat "$VOL/job.txt")'"
		ok=1
	}
	[ ! -e "$VOL/sub/lib.txt" ] || {
		note "sub/lib.txt is still in the volume"
		ok=1
	}
	return $ok
}

# vol_holds TEXT: the volume's f.txt holds TEXT.
vol_holds() {
	[ "$(cat "$VOL/f.txt")" = "$1" ] && return 0
	note "the volume's f.txt holds '$(cat "$VOL/f.txt")', expected '$1'"
	return 1
}

# The library client cannot be trusted to have closed what it holds (venus
# never hears of its plain close(2)): a rewrite goes to a new container.
t library_client_holding_a_file_keeps_its_bytes_when_a_job_rewrites_it
library_client_holding_a_file_keeps_its_bytes_when_a_job_rewrites_it() {
	local ok=0
	start_server || return 1
	lib l hold f.txt \
		run "$(attached 'echo rewritten by a job > /coda/f.txt')" \
		held cat f.txt
	vol_holds 'rewritten by a job' || ok=1
	stop_server
	expect_out l "$(printf '%s\n' 'hold f.txt: ok' 'run: exit 0' \
		'held -: [a file in the volume' ']' 'cat f.txt: [rewritten by a job' ']')" || ok=1
	return $ok
}

# An append is a write session in the container readers hold, as on a
# kernel mount: the holder sees it.
t library_client_holding_a_file_sees_a_jobs_append
library_client_holding_a_file_sees_a_jobs_append() {
	local ok=0
	start_server || return 1
	lib l hold f.txt \
		run "$(attached 'echo appended by a job >> /coda/f.txt')" \
		held
	vol_holds "$(printf 'a file in the volume\nappended by a job')" || ok=1
	stop_server
	expect_out l "$(printf '%s\n' 'hold f.txt: ok' 'run: exit 0' \
		'held -: [a file in the volume' 'appended by a job' ']')" || ok=1
	return $ok
}

# A library client and a job writing one file at once: the job's release
# is not the library's (both see it through inotify), so venus stores once,
# at the library's coda_close, the last, with every writer's bytes.
t library_client_and_a_job_writing_one_file_store_it_on_the_last_close
library_client_and_a_job_writing_one_file_store_it_on_the_last_close() {
	local ok=0
	start_server || return 1
	lib l hold-append f.txt $'by the library\n' \
		run "$(attached 'echo by a job >> /coda/f.txt')" \
		ls . held-write $'more by the library\n' held-close
	vol_holds "$(printf 'a file in the volume\nby the library\nby a job\nmore by the library')" ||
		ok=1
	stop_server
	expect_out l "$(printf '%s\n' 'hold-append f.txt: ok' 'run: exit 0' \
		'ls .: [. 4] [.. 4] [f.txt 8] [ln 10] [sub 4]' 'held-write -: ok' 'held-close -: ok')" || ok=1
	return $ok
}

# A library client that exits holding a file it writes, never calling
# coda_close, leaves no writer behind in venus: the server closes its open
# when its connection goes, so a later writer's close is the last and
# stores.
t library_client_exiting_with_a_file_open_for_writing_leaves_later_writes_stored
library_client_exiting_with_a_file_open_for_writing_leaves_later_writes_stored() {
	local ok=0
	start_server || return 1
	lib l hold-append f.txt 'appended by the library'
	job w -- sh -c 'echo rewritten by a job > /coda/f.txt'
	stop_server
	expect_out l 'hold-append f.txt: ok' || ok=1
	expect_rc w 0 || ok=1
	vol_holds 'rewritten by a job' || ok=1
	return $ok
}

# More opens left than the server lets venus take at once (32 upcalls in
# flight): the rest of the closes wait their turn, none is lost.
t library_client_exiting_with_forty_files_open_for_writing_has_each_closed
library_client_exiting_with_forty_files_open_for_writing_has_each_closed() {
	local ok=0 i steps=() stored
	start_server || return 1
	make_dirs "$VOL/d"
	for i in $(seq 40); do
		echo "file $i" >"$VOL/d/$i"
		steps+=(hold-append "d/$i" 'appended by the library')
	done
	lib l "${steps[@]}"
	job w -- sh -c 'for i in $(seq 40); do echo rewritten by a job > /coda/d/$i; done'
	stop_server
	expect_rc w 0 || ok=1
	[ "$(grep -c ': ok$' "$T/l.out")" = 40 ] || {
		note "the library held $(grep -c ': ok$' "$T/l.out") files, not 40"
		ok=1
	}
	stored=$(grep -lx 'rewritten by a job' "$VOL"/d/* | wc -l)
	[ "$stored" = 40 ] || {
		note "$stored of the 40 files hold the job's bytes"
		ok=1
	}
	return $ok
}

# A library client that exits holding a file it reads has its open closed
# too: venus hears the close (the server's trace) once the client is gone.
t library_client_exiting_with_a_file_open_for_reading_has_it_closed
library_client_exiting_with_a_file_open_for_reading_has_it_closed() {
	local ok=0 fid
	start_server --trace || return 1
	lib l hold f.txt
	stop_server
	expect_out l 'hold f.txt: ok' || ok=1
	fid=$(grep -oE "^coda-exec: trace: job [0-9]+ upcall [0-9]+ OPEN_BY_FD .* fid=[0-9a-f.]+" \
		"$T/server.err" | sed 's/.*fid=//')
	[ -n "$fid" ] || {
		note "no OPEN_BY_FD in the server's trace"
		ok=1
	}
	grep -qE "upcall [0-9]+ CLOSE .*fid=$fid -> 0 " "$T/server.err" || {
		note "venus heard no close of the client's open of $fid:"
		grep -E "OPEN|CLOSE" "$T/server.err" | head -c 1500 >>"$DETAIL"
		ok=1
	}
	return $ok
}

t library_call_on_a_socket_nobody_serves_fails_with_its_error
library_call_on_a_socket_nobody_serves_fails_with_its_error() {
	local ok=0
	SOCK=$WORK/nobody-serves.sock
	lib none cat f.txt stat f.txt
	expect_rc none 0 || ok=1
	expect_out none "$(printf 'cat f.txt: No such file or directory\nstat f.txt: No such file or directory')" || ok=1
	return $ok
}

warn_if_mount_exists
run_tests

if nobody_rerun_wanted; then
	nobody_prepare "$HERE/libclient.sh"
	nobody_copy_coda_exec
	mkdir -p "$N/client"
	cp -- "$LIBCLIENT" "$N/bin/libclient"
	cp -L -- "$(dirname -- "$LIBCLIENT")/../client/libcodaclient.so.0" "$N/client/"
	rerun_as_nobody -- libclient.sh "$N/bin/coda-exec" "$N/bin/libclient"
fi
report_totals
