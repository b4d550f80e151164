#!/bin/bash
# End-to-end suite for process trees and threads in /coda (issue 5).
#
#   tests/e2e/tree.sh CODA_EXEC TREE_PROBE STRESS
#
# Every scenario runs the same command twice from the same starting tree, as
# tests/e2e/write.sh does (lib.sh's same_as_native): natively in a plain copy
# directory (its path mapped to /coda in the outputs) and under coda-exec
# with a second copy as the volume, cwd /coda; stdout, stderr, exit status
# and the final trees (names, sizes, MD5s) must be equal.  In both runs $M
# is the mount (the plain dir natively, /coda under coda-exec).
#
#   probe_*    tree_probe SCENARIO $M: fork, vfork, clone with and without
#              CLONE_FS, posix_spawn and pthreads against the cwd; /coda fds
#              across dup*, F_DUPFD, fork and SCM_RIGHTS; a directory's
#              position across fork; open flags (tests/e2e/tree_probe.c).
#   stress_*   tests/e2e/stress.c: 8 threads x 5,000 checked operations; its
#              times natively and under coda-exec are printed.
#   make_*, xargs_*, pipeline_*, shell_*: process trees of ordinary tools.
#
# Run as root, the suite reruns itself as nobody:nogroup (setpriv) on copies
# of the binaries.  Every test prints "PASS name" or "FAIL name" (with the
# differences); the last line is "N passed, N failed"; the exit status is
# non-zero on failure.  Environment: CODA_E2E_FILTER=REGEX runs only the
# matching tests; CODA_E2E_KEEP=1 keeps the temp dir; CODA_E2E_TIMEOUT
# (seconds, default 120) bounds each command.
set -uo pipefail

usage() {
	echo "usage: $0 CODA_EXEC TREE_PROBE STRESS" >&2
	exit 2
}
[ $# -eq 3 ] || usage
for f in "$@"; do
	[ -x "$f" ] || {
		echo "$0: $f: not an executable file" >&2
		exit 2
	}
done
HERE=$(cd -- "$(dirname -- "$0")" && pwd -P)
. "$HERE/lib.sh"
CODA_EXEC=$(realpath -- "$1")
PROBE=$(realpath -- "$2")
STRESS=$(realpath -- "$3")
fixed_environment
unset MAKEFLAGS MFLAGS
suite_settings
export PROBE STRESS PY
make_workdir coda-e2e-tree
CASES=$WORK/cases
T=$WORK/t
make_dirs "$CASES" "$T"
init_reporting

# ----------------------------------------------------------- tree_probe
# The tree tree_probe.c expects.
seed_probe() {
	mkdir -p "$C/seed/a/sub" "$C/seed/b/sub"
	printf 'alpha\n' >"$C/seed/a/f"
	printf 'gamma-data\n' >"$C/seed/a/g"
	printf 'hotel\n' >"$C/seed/a/sub/h"
	printf 'bravo\n' >"$C/seed/b/f"
	printf 'b-hotel\n' >"$C/seed/b/sub/h"
	copy_seed
}

# probe SCENARIO: tree_probe SCENARIO, natively and in /coda.
probe() {
	new_case
	seed_probe || return 1
	same_as_native "\"\$PROBE\" $1 \"\$M\""
}

# Each test: its name, then the tree_probe scenario it runs.
while read -r name scenario; do
	t "$name"
	eval "$name() { probe $scenario; }"
done <<'EOF'
probe_fork_copies_cwd_at_the_fork fork_cwd
probe_fork_keeps_coda_fds_the_parent_closes_before_the_child_calls fork_then_close
probe_forks_never_fail_with_eintr_under_sigchld forks_under_sigchld
probe_vfork_child_chdir_leaves_parent vfork_cwd
probe_clone_fs_shares_cwd clone_fs
probe_clone_without_fs_copies_cwd clone_nofs
probe_posix_spawn_cwd_and_addchdir spawn_cwd
probe_threads_share_cwd thread_cwd
probe_unshare_gives_a_thread_its_own_cwd_and_fds unshare_fs_files
probe_fds_over_scm_rights scm_rights
probe_recvmsg_wait_ends_on_signal_or_timeout recv_waits
probe_fds_passed_under_a_1ms_timer_are_the_objects_they_are scm_under_timer
probe_dup_family_and_fork_keep_coda_fds dup_family
probe_dir_position_across_fork_and_rewind dir_pos
probe_open_flags_shared_across_fork open_flags
EOF

# Where receives are borrowed (a container profile), a session's first send
# of a /coda fd makes every receiver let into the kernel's recvmsg before
# call again, trapped; one still on its way into its wait too. Only a
# session's first send is so: 30 sessions.
t first_fd_sent_reaches_a_receiver_just_let_into_recvmsg
first_fd_sent_reaches_a_receiver_just_let_into_recvmsg() {
	local i
	new_case
	seed_probe || return 1
	run_plain plain '"$PROBE" first_send "$M"'
	for i in $(seq 30); do
		run_coda coda '"$PROBE" first_send "$M"'
		same_outputs plain coda "session $i of 30" || return 1
	done
}

# A Python parent passes a /coda file and directory to a forked child with
# socket.send_fds; the child uses them as the objects they are.
t python_send_fds_of_coda_file_and_dir_to_a_child
python_send_fds_of_coda_file_and_dir_to_a_child() {
	new_case
	seed_probe || return 1
	same_as_native '"$PY" - <<"EOF"
import os, socket, stat
a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
pid = os.fork()
if pid == 0:
    msg, fds, flags, addr = socket.recv_fds(b, 16, 4)
    f, d = fds
    st = os.fstat(f)
    print(msg, stat.S_ISREG(st.st_mode), st.st_size, oct(st.st_mode & 0o777), st.st_ino == os.stat("a/g").st_ino)
    print(os.read(f, 64))
    print(stat.S_ISDIR(os.fstat(d).st_mode), sorted(os.listdir(d)))
    os.fchdir(d)
    print(os.getcwd().endswith("/a/sub"), open("h").read(), end="")
    os._exit(0)
f = os.open("a/g", os.O_RDONLY)
d = os.open("a/sub", os.O_RDONLY | os.O_DIRECTORY)
os.read(f, 6)
socket.send_fds(a, [b"fds"], [f, d])
os.close(f)
os.close(d)
print("child", os.waitpid(pid, 0)[1])
EOF'
}

# --------------------------------------------------------------- stress
t stress_8_threads_5000_ops_each
stress_8_threads_5000_ops_each() {
	new_case
	copy_seed || return 1
	same_as_native '"$STRESS" "$M" 1 8 5000'
	local ok=$?
	echo "  (stress: $RUN_TIMES)"
	return $ok
}

# ------------------------------------------------------- process trees
# A small C project: sources in src/, a Makefile that compiles each into
# obj/ (cd-ing into src/ for it), generates headers and sums everything.
seed_project() {
	mkdir -p "$C/seed/src" "$C/seed/data"
	for i in 1 2 3 4 5 6 7 8; do
		printf '#include "gen%d.h"\nint f%d(int x) { return x * %d + GEN%d; }\n' \
			"$i" "$i" "$i" "$i" >"$C/seed/src/m$i.c"
		seq 1 $((i * 300)) | sed "s/^/line $i /" >"$C/seed/data/d$i.txt"
	done
	cat >"$C/seed/Makefile" <<'EOF'
N := 1 2 3 4 5 6 7 8
OBJ := $(N:%=obj/m%.o)
all: sums.txt
obj:
	mkdir -p obj
src/gen%.h: data/d%.txt
	cd data && printf '#define GEN$* %s\n' "$$(wc -l < d$*.txt)" > ../$@
obj/m%.o: src/m%.c src/gen%.h | obj
	cd src && gcc -O1 -c m$*.c -o ../$@
sums.txt: $(OBJ)
	md5sum $(sort $^) src/*.h > $@
clean:
	rm -rf obj sums.txt src/*.h
EOF
	copy_seed
}

t make_j2_builds_as_natively
make_j2_builds_as_natively() {
	new_case
	seed_project || return 1
	same_as_native 'make -j2 -s && cat sums.txt && make -s -q && echo up to date &&
		make -j2 -s clean && make -j2 -s && cat sums.txt'
}

t xargs_P4_runs_as_natively
xargs_P4_runs_as_natively() {
	new_case
	seed_project || return 1
	same_as_native 'find data -name "*.txt" | sort | xargs -P4 -n1 sh -c '\''cd "$(dirname "$1")" &&
		sort -r "$(basename "$1")" > "$(basename "$1" .txt).rev" && wc -l < "$(basename "$1" .txt).rev"'\'' sh |
		sort -n && ls data | sort && cat data/*.rev | md5sum'
}

t pipeline_find_sort_xargs_md5sum
pipeline_find_sort_xargs_md5sum() {
	new_case
	seed_project || return 1
	same_as_native 'find . -type f | sort | xargs md5sum | sort -k2 | tee "$SCR/list.txt" | awk "{ print \$2 }" |
		xargs -n3 wc -c | sort -k2 | tail -n 5 && cd data && find . -type f | sort | xargs cat | sort | uniq -c |
		sort -rn | head -n 3 && grep -c line *.txt | awk -F: "{ n += \$2 } END { print n }"'
}

# dash's SIGCHLD handler has no SA_RESTART: a fork must never fail because a
# child's SIGCHLD came while it ran ("Cannot fork").
t shell_runs_300_pipelines_without_a_lost_fork
shell_runs_300_pipelines_without_a_lost_fork() {
	new_case
	seed_project || return 1
	same_as_native 'for i in $(seq 300); do echo x | cat | cat; done | wc -l'
}

# The shell's own forks: subshells and background jobs keep their cwd.
t shell_subshells_and_jobs_keep_their_cwd
shell_subshells_and_jobs_keep_their_cwd() {
	new_case
	seed_probe || return 1
	same_as_native '(cd a && pwd && cd sub && pwd && cat h); pwd
		(cd b; sleep 0.2; pwd; cat f) & cd a; pwd; wait; pwd; cat f
		i=0; for d in sub ../b ../b/sub; do i=$((i + 1)); (cd $d && pwd && ls) >"$SCR/job$i" & done
		wait; cat "$SCR"/job*
		cd "$M" && bash -c "cd a/sub; pwd; exec bash -c pwd"; pwd'
}

# The supervisor forgets each process of the tree once it has exited, even
# while the tree keeps it busy: its peak memory is the same for 200 and for
# 2,000 short processes. (ASan's quarantine would keep what is freed.)
t supervisor_memory_stays_flat_over_2000_short_processes
supervisor_memory_stays_flat_over_2000_short_processes() {
	local n few many
	new_case
	seed_probe || return 1
	for n in 200 2000; do
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0" run_coda "n$n" \
			"i=0; while [ \$i -lt $n ]; do /bin/true; i=\$((i + 1)); done; echo \$i" --stats
		expect_rc "n$n" 0 || return 1
	done
	few=$(awk '$4 == "supervisor_maxrss_kib" { print $5 }' "$T/n200.err")
	many=$(awk '$4 == "supervisor_maxrss_kib" { print $5 }' "$T/n2000.err")
	if [ -z "$few" ] || [ -z "$many" ] || [ "$(cat "$T/n2000.out")" != 2000 ]; then
		note "no peak memory in --stats, or the loop did not run: $(head -c 400 "$T/n2000.err")"
		return 1
	fi
	[ $((many - few)) -lt 4096 ] && return 0
	note "the supervisor's peak memory grew from $few KiB (200 processes) to $many KiB (2,000)"
	return 1
}

# ================================================================ main
warn_if_mount_exists

run_tests

# ------------------------------------------- the same again, unprivileged
if nobody_rerun_wanted; then
	nobody_prepare "$HERE/tree.sh"
	nobody_copy_coda_exec
	cp -- "$PROBE" "$N/bin/tree_probe"
	cp -- "$STRESS" "$N/bin/stress"
	rerun_as_nobody -- tree.sh "$N/bin/coda-exec" "$N/bin/tree_probe" "$N/bin/stress"
fi

report_totals
