#!/bin/bash
# End-to-end suite for coda-exec.
#
#   tests/e2e/run.sh CODA_EXEC [MMAP_PROG [BADCALLS_PROG]]    run the suite against a coda-exec binary
#   tests/e2e/run.sh --self-test [MMAP_PROG [BADCALLS_PROG]]  test the harness alone (no coda-exec needed)
#
# MMAP_PROG and BADCALLS_PROG are the built tests/e2e/mmap_md5.c and
# tests/e2e/badcalls.c; either one missing is compiled here with cc.
#
# A fixture volume (tests/e2e/make-volume.sh) is built in a fresh temp dir.
# Most scenarios run a shell command twice: natively with the plain volume
# directory as cwd, and as
#     coda-exec --volume VOL --cache CACHE -- sh -c 'cd /coda && CMD'
# and compare stdout, stderr and exit status byte for byte (the plain
# directory's path is rewritten to /coda in the native output first).  The
# others check coda-exec's own behaviour against fixed expectations (EROFS,
# "..", exit statuses, options).
#
# Run as root, the suite then reruns itself as nobody:nogroup (setpriv) on
# copies of the binaries, so both privileged and unprivileged use are covered.
#
# --self-test replaces coda-exec with a second build of the volume that
# is read natively and mapped to /coda: every comparison must then pass, which
# checks that the fixture and the commands are deterministic and that the path
# mapping is right; a deliberately different pair must be reported as FAIL.
#
# Every test prints "PASS name" or "FAIL name" (with a diff); the last line is
# "N passed, N failed"; the exit status is non-zero if anything failed.
#
# Environment: CODA_E2E_FILTER=REGEX runs only the tests whose name matches;
# CODA_E2E_KEEP=1 keeps the temp dir; CODA_E2E_TIMEOUT (seconds, default 120)
# bounds each command.
#
# The helpers shared with the other suite are in tests/e2e/lib.sh.
set -uo pipefail

usage() {
	echo "usage: $0 CODA_EXEC [MMAP_PROG [BADCALLS_PROG]] | $0 --self-test [MMAP_PROG [BADCALLS_PROG]]" >&2
	exit 2
}
[ $# -ge 1 ] && [ $# -le 3 ] || usage

HERE=$(cd -- "$(dirname -- "$0")" && pwd -P)
. "$HERE/lib.sh"
MODE=real
if [ "$1" = --self-test ]; then
	MODE=self
	CODA_EXEC=
else
	[ -x "$1" ] || {
		echo "$0: $1: not an executable file" >&2
		exit 2
	}
	CODA_EXEC=$(realpath -- "$1")
fi
MMAP_PROG=${2:-}
BADCALLS_PROG=${3:-}

fixed_environment
suite_settings
make_workdir coda-e2e

VOL=$WORK/vol       # the plain volume directory, served as /coda
VOL2=$WORK/vol2     # self-test only: the stand-in for /coda
CACHE=$WORK/cache   # coda-exec --cache
T=$WORK/t           # per-command scratch (outputs, diffs)
HOSTDIR=$WORK/host  # files outside the volume
make_dirs "$CACHE" "$T" "$HOSTDIR"

if ! "$HERE/make-volume.sh" "$VOL" >"$T/make-volume.log" 2>&1; then
	setup_failed "make-volume.sh failed:" "$T/make-volume.log"
fi
chmod 755 "$VOL"
if [ "$MODE" = self ]; then
	# Built again rather than copied: cp's sparse-file handling gives the copy
	# other block counts (du, ls totals). Only git's index records inode
	# numbers and ctimes, so it is copied over.
	"$HERE/make-volume.sh" "$VOL2" >"$T/make-volume2.log" 2>&1 || exit 1
	cp -p -- "$VOL/repo/.git/index" "$VOL2/repo/.git/index"
	chmod 755 "$VOL2"
fi

if [ -z "$MMAP_PROG" ]; then
	MMAP_PROG=$WORK/mmap_md5
	cc -O2 -o "$MMAP_PROG" "$HERE/mmap_md5.c" || exit 125
else
	MMAP_PROG=$(realpath -- "$MMAP_PROG")
fi
if [ -z "$BADCALLS_PROG" ]; then
	BADCALLS_PROG=$WORK/badcalls
	cc -O2 -pthread -o "$BADCALLS_PROG" "$HERE/badcalls.c" || exit 125
else
	BADCALLS_PROG=$(realpath -- "$BADCALLS_PROG")
fi

# Snapshot of the volume, compared again at the end: nothing may change it.
manifest() {
	(cd "$1" && find . -printf '%y %s %m %n %T@ %p -> %l\n' | sort &&
		find . -type f -exec md5sum {} + | sort)
}
manifest "$VOL" >"$WORK/manifest.before"

VOL_RE=$(sed_escape "$VOL")
VOL2_RE=$(sed_escape "$VOL2")

# ------------------------------------------------------------------ runners
# Each runner leaves stdout, stderr and status in $T/$1.{out,err,rc}.

# run_plain TAG CMD: CMD in the plain volume dir; its path is mapped to /coda.
run_plain() {
	local tag=$1 cmd=$2
	timeout -k 5 "$TMO" sh -c 'cd "$1" && eval "$2"' sh "$VOL" "$cmd" \
		<"${STDIN:-/dev/null}" >"$T/$tag.out.raw" 2>"$T/$tag.err.raw"
	echo $? >"$T/$tag.rc"
	sed "s|$VOL_RE|$MNT|g" "$T/$tag.out.raw" >"$T/$tag.out"
	sed "s|$VOL_RE|$MNT|g" "$T/$tag.err.raw" >"$T/$tag.err"
}

# run_coda TAG CMD: CMD under coda-exec with cwd /coda (self-test: in VOL2).
run_coda() {
	local tag=$1 cmd=$2
	if [ "$MODE" = self ]; then
		timeout -k 5 "$TMO" sh -c 'cd "$1" && eval "$2"' sh "$VOL2" "$cmd" \
			<"${STDIN:-/dev/null}" >"$T/$tag.out.raw" 2>"$T/$tag.err.raw"
		echo $? >"$T/$tag.rc"
		sed "s|$VOL2_RE|$MNT|g" "$T/$tag.out.raw" >"$T/$tag.out"
		sed "s|$VOL2_RE|$MNT|g" "$T/$tag.err.raw" >"$T/$tag.err"
		return
	fi
	timeout -k 5 "$TMO" "$CODA_EXEC" --volume "$VOL" --cache "$CACHE" -- \
		sh -c 'cd /coda && eval "$1"' sh "$cmd" \
		<"${STDIN:-/dev/null}" >"$T/$tag.out" 2>"$T/$tag.err"
	echo $? >"$T/$tag.rc"
	drop_sanitizer_notes "$T/$tag.err"
}

# run_host TAG CMD: CMD natively, cwd unchanged, no mapping.
run_host() {
	local tag=$1 cmd=$2
	timeout -k 5 "$TMO" sh -c "$cmd" <"${STDIN:-/dev/null}" >"$T/$tag.out" 2>"$T/$tag.err"
	echo $? >"$T/$tag.rc"
}

# cx TAG ARGS...: coda-exec ARGS verbatim (real mode only).
cx() {
	local tag=$1
	shift
	cx_capture "$tag" "" "$@"
}

# cx_vol TAG CMD: CMD under coda-exec with the fixture volume, cwd unchanged.
cx_vol() {
	local tag=$1 cmd=$2
	cx "$tag" --volume "$VOL" --cache "$CACHE" -- sh -c "$cmd"
}

# ---------------------------------------------------------------- reporting
init_reporting

# same_as_plain CMD [STATUS [MESSAGE]]: the heart of the suite.  CMD must
# behave natively as declared (exit STATUS, default 0; with status 0 it must
# print something; with MESSAGE, stderr must contain it) -- so a comparison
# of two equally broken runs cannot pass -- and coda-exec must match it.
same_as_plain() {
	local cmd=$1 want=${2:-0} msg=${3:-} ok=0
	run_plain plain "$cmd"
	run_coda coda "$cmd"
	if [ "$(cat "$T/plain.rc")" != "$want" ]; then
		note "reference run in the plain directory exited $(cat "$T/plain.rc"), expected $want:"
		note "  command: $cmd"
		note "  stderr: $(head -c 800 "$T/plain.err")"
		ok=1
	elif [ "$want" = 0 ] && [ ! -s "$T/plain.out" ]; then
		note "reference run printed nothing: $cmd"
		ok=1
	elif [ -n "$msg" ] && ! grep -qF -- "$msg" "$T/plain.err"; then
		note "reference stderr lacks '$msg': $(head -c 400 "$T/plain.err")"
		ok=1
	fi
	same_outputs plain coda "$cmd" || ok=1
	return $ok
}

# same_as_host CMD: CMD outside the mount, bare vs under coda-exec.
same_as_host() {
	local cmd=$1
	run_host host "$cmd"
	if [ "$MODE" = self ]; then
		run_host coda "$cmd"
	else
		cx_vol coda "$cmd"
	fi
	expect_rc host 0 || return 1
	same_outputs host coda "$cmd"
}

# ------------------------------------------------------------ test registry
TESTS=()
KINDS=()
# t KIND NAME: register function NAME.  KIND "cmp" runs in self-test mode
# too; "cx" needs the real coda-exec.
t() {
	KINDS+=("$1")
	TESTS+=("$2")
}

# ============================================================== scenarios
# --- listings and metadata
t cx ls_lR_matches_plain_dir # block counts: a second build of the volume may lay out directories differently
ls_lR_matches_plain_dir() { same_as_plain 'ls -lR --time-style=full-iso'; }

t cx ls_la_of_subdirs_matches # block counts: a second build of the volume may lay out directories differently
ls_la_of_subdirs_matches() {
	# not "ls -a ." : /coda/.. is the host root, the plain dir's .. is not
	same_as_plain 'ls -la --time-style=+%s.%N docs links modes many | md5sum; ls -ld . modes/private-dir deep/level1/empty-dir; ls -s -1 | head -20; ls -ia . | wc -l'
}

t cmp find_printf_types_sizes_modes_links_match
find_printf_types_sizes_modes_links_match() {
	same_as_plain "find . -printf '%y %s %m %n %TY-%Tm-%Td+%TT %p -> %l\n' | sort"
}

t cmp find_predicates_match
find_predicates_match() {
	same_as_plain 'find . -empty | sort; echo --; find . -type f -perm -u+x | sort; echo --; find . -newer docs/lines.txt -type f | wc -l; echo --; find . -maxdepth 2 -type d | sort; echo --; find . -name "*.py" | sort; find . -type l | sort'
}

t cmp stat_c_fields_match
stat_c_fields_match() {
	same_as_plain "stat -c '%n|%s|%a|%A|%F|%h|%U|%G|%u|%g|%y|%N|%b|%B' . README.md empty.txt one-byte.bin big.bin docs 'docs/file with spaces.txt' docs/*.txt modes/* links/* hardlinks/* deep/level1/level2/up-link many/entry-007-*; stat -L -c '%n %s %a %F' links/rel-link links/rel-dir-link links/host-os-release"
}

t cmp readlink_and_realpath_match
readlink_and_realpath_match() {
	same_as_plain 'readlink links/*; echo --; readlink -f links/rel-link links/rel-dir-link links/host-os-release links/dangling deep/level1/level2/up-link; echo --; realpath . docs/readme.txt links/rel-link links/rel-dir-link deep/level1/../level1/top.txt links/host-os-release; echo --; realpath -s links/rel-link; cd deep/level1/level2 && realpath up-link ../.. .'
}

t cx du_a_and_du_s_match # block counts: a second build of the volume may lay out directories differently
du_a_and_du_s_match() {
	same_as_plain 'du -a | sort -k2; echo --; du -s; du -sb; du -s --inodes; echo --; du -ab | sort -k2 | md5sum'
}

# --- contents
t cmp md5sum_of_every_file_matches
md5sum_of_every_file_matches() {
	same_as_plain 'find . -type f -exec md5sum {} + | sort; find . -type f -print0 | sort -z | xargs -0 cat | md5sum'
}

t cmp cat_of_special_names_and_links_matches
cat_of_special_names_and_links_matches() {
	same_as_plain 'cat "docs/file with spaces.txt" docs/*名前.txt docs/emoji-*.txt docs/tab*.txt ./docs/-leading-dash.txt docs/.hidden; cat links/rel-link links/rel-dir-link/readme.txt deep/level1/level2/up-link; cat links/host-os-release | md5sum; cat hardlinks/original.txt hardlinks/second-name.txt'
}

t cmp large_file_partial_reads_match
large_file_partial_reads_match() {
	same_as_plain 'dd if=big.bin bs=4096 skip=100 count=3 status=none | md5sum; tail -c 100 odd-size.bin | od -An -tx1; head -c 5000 big.bin | md5sum; tail -n 3 docs/lines.txt; sed -n "1000,1003p" docs/lines.txt; '"$PY"' -c "f=open(\"big.bin\",\"rb\"); f.seek(500000); print(f.read(16).hex()); f.seek(-7, 2); print(f.read().hex(), f.tell()); print(len(open(\"odd-size.bin\",\"rb\").read()))"'
}

t cmp mmap_of_files_matches_read
mmap_of_files_matches_read() {
	# the native run checks mmap against md5sum; the coda run must match it
	same_as_plain 'a=$("$MMAP_PROG" big.bin odd-size.bin four-k.bin one-byte.bin empty.txt); b=$(md5sum big.bin odd-size.bin four-k.bin one-byte.bin empty.txt); [ "$a" = "$b" ] && printf "%s\n" "$a"'
}

t cmp grep_r_matches
grep_r_matches() {
	same_as_plain 'grep -r coda-needle . | sort; echo --; grep -ril needle --include="*.txt" . | sort; echo --; grep -rc line tree | sort | md5sum; grep -r -l -F "$(printf "\\377")" . | sort | head -5'
}

t cmp fd_offset_shared_across_fork
fd_offset_shared_across_fork() {
	same_as_plain 'exec 3< docs/lines.txt; read a <&3; read b <&3; echo "$a|$b"; sh -c "read c; echo \$c" <&3; read d <&3; echo "$d"; cat <&3 | wc -l; exec 3<&-'
}

# An open of a /coda file keeps the thread on the supervisor's CPU for a
# moment (trap/affinity.c): after it, the thread's own CPUs are back.
t cmp opens_leave_the_threads_cpu_affinity_as_it_was
opens_leave_the_threads_cpu_affinity_as_it_was() {
	same_as_plain "$PY"' -c "
import os
cpus = sorted(os.sched_getaffinity(0))
files = sorted(os.path.join(d, n) for d, _, ns in os.walk(\"tree\") for n in ns)[:50]
for want in ({cpus[0]}, {cpus[-1]}, set(cpus)):
    os.sched_setaffinity(0, want)
    sizes = [len(open(f, \"rb\").read()) for f in files]
    print(len(sizes), os.sched_getaffinity(0) == want)
"'
}

t cmp dirfd_relative_calls_and_fchdir_match
dirfd_relative_calls_and_fchdir_match() {
	same_as_plain "$PY"' -c "
import os, stat
fd = os.open(\"tree\", os.O_RDONLY | os.O_DIRECTORY)
print(stat.S_ISDIR(os.fstat(fd).st_mode), os.fstat(fd).st_nlink)
a = sorted(os.listdir(fd)); b = sorted(os.listdir(fd)); print(a == b, a)
print(os.stat(\"d03/s1/f2.txt\", dir_fd=fd).st_size, os.path.exists(\"tree/d03/s1\"))
f = os.open(\"d03/s1/f2.txt\", os.O_RDONLY, dir_fd=fd); print(len(os.read(f, 100000))); os.close(f)
print(os.readlink(\"../links/rel-link\", dir_fd=fd))
os.chdir(fd); print(os.getcwd()); print(sorted(os.listdir(\"d05\")))
os.chdir(\"d05/s2\"); print(os.getcwd(), sorted(os.listdir(\"..\")))
n = len(os.listdir(\"../../../many\")); print(n)
"'
}

# --- archives
t cmp tar_listing_matches
tar_listing_matches() {
	same_as_plain 'tar cf - --sort=name . | tar tvf - --full-time'
}

t cmp tar_stream_md5_matches
tar_stream_md5_matches() {
	same_as_plain "tar cf - --format=gnu --sort=name --mtime='2020-01-01 00:00:00Z' --owner=0 --group=0 --numeric-owner . | md5sum; tar cf - --format=gnu --sort=name hardlinks | tar tvf - --numeric-owner --full-time"
}

# --- python
t cmp python_imports_package_and_walks_volume
python_imports_package_and_walks_volume() {
	same_as_plain "$PY"' -B -c "
import os, sys
sys.path.insert(0, os.getcwd())
import pkg
from pkg.sub import mod
print(pkg.__file__, mod.__file__, pkg.VERSION)
print(pkg.greet(\"coda\"), mod.fib(50), mod.data_checksum(), sorted(mod.DATA.items()), mod.PRIMES)
for root, dirs, files in os.walk(\".\"):
    dirs.sort()
    for n in sorted(files):
        st = os.lstat(os.path.join(root, n))
        print(root, n, st.st_size, oct(st.st_mode), st.st_nlink, st.st_mtime_ns)
for d in (\".\", \"docs\", \"links\", \"modes\"):
    with os.scandir(d) as it:
        for e in sorted(it, key=lambda e: e.name):
            print(d, e.name, e.is_dir(follow_symlinks=False), e.is_file(follow_symlinks=False), e.is_symlink(), e.stat(follow_symlinks=False).st_size)
print(sorted(os.listdir(\"many\")) == sorted(e.name for e in os.scandir(\"many\")), len(os.listdir(\"many\")))
"'
}

t cmp python_runs_script_from_volume
python_runs_script_from_volume() {
	same_as_plain "$PY"' -B pkg/sub/mod.py; cd pkg && '"$PY"' -B -m sub.mod'
}

# --- C
t cmp c_program_from_volume_compiles_and_runs
c_program_from_volume_compiles_and_runs() {
	same_as_plain 'cd csrc && o=$(mktemp -d) && cc -Iinclude -o "$o/hello" main.c lib/util.c && "$o/hello"; rc=$?; rm -rf "$o"; cc -MM -Iinclude main.c lib/util.c; cc -E -P -Iinclude main.c | md5sum; exit $rc'
}

# --- git
GIT="git -c safe.directory='*' --no-pager"
t cmp git_log_p_matches
git_log_p_matches() {
	same_as_plain "cd repo && $GIT log -p --stat --decorate=short && $GIT log --oneline --all --graph"
}

t cmp git_show_matches
git_show_matches() {
	same_as_plain "cd repo && $GIT show HEAD~1 && $GIT show v1.0 --stat && $GIT cat-file -p v1.0 && $GIT ls-files -s && $GIT rev-parse HEAD HEAD~3 && $GIT diff HEAD~3 HEAD --stat"
}

t cmp git_status_and_fsck_match
git_status_and_fsck_match() {
	same_as_plain "cd repo && $GIT --no-optional-locks status && $GIT fsck --full --strict && $GIT --no-optional-locks describe --tags && cd src && $GIT --no-optional-locks rev-parse --show-toplevel --show-prefix"
}

# --- statically linked busybox: no libc in the picture
busybox_ok() {
	if ! file -L "$BUSYBOX" 2>/dev/null | grep -q 'statically linked'; then
		note "$BUSYBOX missing or not statically linked (install busybox-static): $(file -L "$BUSYBOX" 2>&1)"
		return 1
	fi
}
t cx busybox_ls_lR_matches # block counts: a second build of the volume may lay out directories differently
busybox_ls_lR_matches() {
	busybox_ok && same_as_plain "$BUSYBOX ls -lR; $BUSYBOX ls -lan links modes"
}
t cx busybox_find_matches # block counts: a second build of the volume may lay out directories differently
busybox_find_matches() {
	busybox_ok && same_as_plain "$BUSYBOX find . | sort; $BUSYBOX find . -type l | sort; $BUSYBOX find . -type f -size +4k | sort; $BUSYBOX du -a | sort -k2 | md5sum"
}
t cmp busybox_cat_matches
busybox_cat_matches() {
	busybox_ok && same_as_plain "$BUSYBOX cat README.md docs/readme.txt 'docs/file with spaces.txt' links/rel-link; $BUSYBOX cat big.bin odd-size.bin empty.txt | $BUSYBOX md5sum; cd deep/level1 && $BUSYBOX pwd && $BUSYBOX cat ../../README.md | $BUSYBOX wc -c"
}

# --- relative paths and cwd
t cmp relative_dotdot_inside_volume_matches
relative_dotdot_inside_volume_matches() {
	same_as_plain 'cd docs && cat ../README.md && pwd && /bin/pwd -P; cd ../deep/level1/level2/level3 && cat ../../../../docs/readme.txt ./mid.txt && /bin/pwd -P; cd ../../.. && ls; cd ../links/rel-dir-link && pwd -P && ls | head -3'
}

# --- errors that must be the same as on a real file system
t cmp missing_file_gives_ENOENT
missing_file_gives_ENOENT() { same_as_plain 'cat missing' 1 'No such file or directory'; }

t cmp dangling_symlink_gives_ENOENT
dangling_symlink_gives_ENOENT() { same_as_plain 'cat links/dangling' 1 'No such file or directory'; }

t cmp path_through_regular_file_gives_ENOTDIR
path_through_regular_file_gives_ENOTDIR() {
	same_as_plain 'stat -c %s docs/readme.txt/x; ls docs/readme.txt/ ; cat README.md/..' 1 'Not a directory'
}

t cmp cd_into_file_fails_like_plain_dir
cd_into_file_fails_like_plain_dir() { same_as_plain 'cd modes/exec.sh' 2 "can't cd"; }

t cmp symlink_loop_gives_ELOOP
symlink_loop_gives_ELOOP() { same_as_plain 'cat links/loop-a' 1 'Too many levels of symbolic links'; }

t cmp directory_read_gives_EISDIR
directory_read_gives_EISDIR() { same_as_plain 'cat docs' 1 'Is a directory'; }

# A directory's fd reads, maps and seeks as a directory, with no trap: each
# call's errno, and the listing again after a seek back to where it began.
t cmp directory_fd_reads_maps_and_seeks_as_a_directory
directory_fd_reads_maps_and_seeks_as_a_directory() {
	same_as_plain "$PY"' -c "
import mmap, os
fd = os.open(\"docs\", os.O_RDONLY | os.O_DIRECTORY)
for name, call in ((\"read\", lambda: os.read(fd, 10)), (\"pread\", lambda: os.pread(fd, 10, 0)),
                   (\"readv\", lambda: os.readv(fd, [bytearray(10)])),
                   (\"mmap\", lambda: mmap.mmap(fd, 4096, prot=mmap.PROT_READ))):
    try:
        call()
        print(name, \"worked\")
    except OSError as e:
        print(name, e.strerror)
d = os.scandir(fd)
first = sorted(e.name for e in d)
print(os.lseek(fd, 0, os.SEEK_SET), sorted(e.name for e in os.scandir(fd)) == first, len(first))
"'
}

t cmp name_of_256_chars_gives_ENAMETOOLONG
name_of_256_chars_gives_ENAMETOOLONG() {
	same_as_plain 'cat "$(printf "a%.0s" $(seq 255))"; cat "$(printf "a%.0s" $(seq 256))"' 1 'File name too long' &&
		expect_grep plain err 'No such file or directory'
}

t cmp path_longer_than_PATH_MAX_gives_ENAMETOOLONG
path_longer_than_PATH_MAX_gives_ENAMETOOLONG() {
	same_as_plain 'cat "$(printf "d/%.0s" $(seq 2100))x"' 1 'File name too long'
}

t cmp bad_pointers_and_paths_fail_like_the_kernel
bad_pointers_and_paths_fail_like_the_kernel() {
	# raw syscalls with NULL, unmapped, read-only and unterminated pointers,
	# PATH_MAX/NAME_MAX limits, bad flags and a path buffer raced by a second
	# thread (tests/e2e/badcalls.c); the kernel answers in the plain dir
	same_as_plain '"$BADCALLS_PROG" "$PWD" README.md links/rel-link links/loop-a && "$BADCALLS_PROG" "$PWD/docs" readme.txt' &&
		expect_grep plain out 'openat unterminated at page end: EFAULT' &&
		expect_grep plain out 'openat PATH_MAX bytes: ENAMETOOLONG' &&
		expect_grep plain out 'race: done'
}

# --- paths outside the mount behave as without coda-exec
t cmp host_paths_unaffected
host_paths_unaffected() {
	same_as_host "ls -l --time-style=full-iso /usr/bin | md5sum; stat -c '%n %s %a %U %G %Y %i %h' /etc/passwd /usr/bin/ls /; cat /etc/os-release; ls /; cd /usr/share && pwd && ls | head -5; $PY -B -c 'import os; print(len(os.listdir(\"/usr/lib\")), os.getcwd())'"
}

t cmp host_cwd_is_kept
host_cwd_is_kept() {
	local cmd='pwd && /bin/pwd -P && ls -l --time-style=full-iso && cat host.txt && cat ./host.txt'
	printf 'host file\n' >"$HOSTDIR/host.txt"
	(cd "$HOSTDIR" && run_host h "$cmd")
	if [ "$MODE" = self ]; then
		(cd "$HOSTDIR" && run_host c "$cmd")
	else
		(cd "$HOSTDIR" && cx_vol c "$cmd")
	fi
	expect_rc h 0 && same_outputs h c "$cmd in a host cwd"
}

# --- coda-exec's own behaviour (real mode only)
t cx abs_symlink_into_mount_resolves_inside_mount
abs_symlink_into_mount_resolves_inside_mount() {
	local ok=0
	cx_vol c 'cat /coda/links/abs-coda && realpath /coda/links/abs-coda && readlink /coda/links/abs-coda'
	{
		cat "$VOL/docs/readme.txt"
		printf '/coda/docs/readme.txt\n/coda/docs/readme.txt\n'
	} >"$T/c.want"
	expect_rc c 0 || ok=1
	if ! cmp -s "$T/c.want" "$T/c.out"; then
		note "unexpected output:"
		diff -u "$T/c.want" "$T/c.out" >>"$DETAIL"
		ok=1
	fi
	return $ok
}

t cx dotdot_from_mount_root_reaches_host_root
dotdot_from_mount_root_reaches_host_root() {
	local ok=0
	run_host h 'cd / && pwd && ls && echo -- && ls / && echo -- && cat /etc/os-release && echo -- && ls /usr'
	cx_vol c 'cd /coda && cd -P .. && pwd && ls && echo -- && cd /coda && ls .. && echo -- && cat /coda/../etc/os-release && echo -- && cd /coda/docs && ls ../../usr'
	same_outputs h c "cd .. from /coda" || ok=1
	run_host h2 'cd / && /bin/pwd -P && ls'
	cx_vol c2 'cd /coda && cd .. && /bin/pwd -P && ls'
	same_outputs h2 c2 "logical cd .. from /coda" || ok=1
	return $ok
}

# through_mount_as_natively CMD: CMD natively in $HOSTDIR, which holds a
# file "secret" of mode 0, and under coda-exec in the same directory reached
# through the mount (/coda/..), where the supervisor makes CMD's host calls
# itself, as the kernel would: with the command's credentials.
through_mount_as_natively() {
	local cmd=$1
	rm -f "$HOSTDIR/secret"
	printf 'secret\n' >"$HOSTDIR/secret"
	chmod 0 "$HOSTDIR/secret"
	(cd "$HOSTDIR" && run_host h "$cmd")
	cx_vol c "cd /coda && cd -P ..$HOSTDIR && $cmd"
	same_outputs h c "$cmd in a host directory reached through /coda"
}

# Root's command reads it with its capabilities; nobody's is refused.
t cx host_file_through_mount_is_read_with_the_command_capabilities
host_file_through_mount_is_read_with_the_command_capabilities() {
	through_mount_as_natively 'cat secret'
}

# Started by root, the supervisor must not lend its own credentials: a
# command that has given up root is refused as natively (as nobody, the
# same refusal by the file's mode).
t cx host_file_through_mount_is_refused_to_a_command_that_gave_up_root
host_file_through_mount_is_refused_to_a_command_that_gave_up_root() {
	local drop=
	[ "$(id -u)" = 0 ] && drop='setpriv --reuid=nobody --regid=nogroup --clear-groups '
	through_mount_as_natively "${drop}cat secret" && expect_rc h 1
}

t cx coda_path_to_missing_file_fails_cleanly
coda_path_to_missing_file_fails_cleanly() {
	cx_vol c 'cat /coda/missing'
	expect_rc c 1 && expect_grep c err 'No such file or directory'
}

# Venus sends no change notifications: a watch on a /coda object would never
# fire, so it is refused; the same calls on host paths work.
t cx change_watches_on_coda_give_EOPNOTSUPP
change_watches_on_coda_give_EOPNOTSUPP() {
	cx_vol c "$PY"' -c "
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
def show(what, r):
    print(what, \"ok\" if r >= 0 else os.strerror(ctypes.get_errno()))
ino = libc.inotify_init1(0)
show(\"inotify /coda\", libc.inotify_add_watch(ino, b\"/coda/README.md\", 2))
show(\"inotify host\", libc.inotify_add_watch(ino, b\"/tmp\", 2))
fan = libc.fanotify_init(0, 0)
if fan >= 0:
    show(\"fanotify /coda\", libc.fanotify_mark(fan, 1, 8, -100, b\"/coda/README.md\"))
    show(\"fanotify host\", libc.fanotify_mark(fan, 1, 8, -100, b\"/tmp\"))
"'
	expect_rc c 0 || return 1
	expect_grep c out 'inotify /coda Operation not supported' || return 1
	expect_grep c out 'inotify host ok' || return 1
	# fanotify_init needs CAP_SYS_ADMIN before Linux 5.13's unprivileged mode
	if grep -q fanotify "$T/c.out"; then
		expect_grep c out 'fanotify /coda Operation not supported' || return 1
		expect_grep c out 'fanotify host ok' || return 1
	fi
}

t cx writes_fail_with_EROFS_when_read_only
writes_fail_with_EROFS_when_read_only() {
	local ok=0 i cmd
	local cmds=(
		'touch /coda/x'
		'touch /coda/README.md'
		'echo new >/coda/docs/readme.txt'
		'echo more >>/coda/docs/readme.txt'
		'mkdir /coda/newdir'
		'rmdir /coda/deep/level1/empty-dir'
		'rm /coda/empty.txt'
		'mv /coda/README.md /coda/moved.md'
		'ln -s README.md /coda/newlink'
		'ln /coda/README.md /coda/docs/hardlink'
		'chmod 600 /coda/README.md'
		'cd /coda/docs && : >new-relative.txt'
		"$PY -c 'import os; os.open(\"/coda/four-k.bin\", os.O_RDWR)'"
	)
	for i in "${!cmds[@]}"; do
		cmd=${cmds[$i]}
		cx w$i --read-only --volume "$VOL" --cache "$CACHE" -- sh -c "$cmd"
		if [ "$(cat "$T/w$i.rc")" = 0 ]; then
			note "'$cmd' succeeded; it must fail"
			ok=1
		elif ! grep -qF 'Read-only file system' "$T/w$i.err"; then
			note "'$cmd' failed without 'Read-only file system': $(head -c 300 "$T/w$i.err")"
			ok=1
		fi
	done
	for f in x moved.md newdir newlink docs/hardlink docs/new-relative.txt; do
		if [ -e "$VOL/$f" ] || [ -L "$VOL/$f" ]; then
			note "$f appeared in the volume directory"
			ok=1
		fi
	done
	return $ok
}

t cx writes_outside_mount_work
writes_outside_mount_work() {
	local d=$HOSTDIR/w
	mkdir -p "$d"
	cx_vol c "echo hello >'$d/out' && mkdir '$d/sub' && cp /coda/docs/readme.txt '$d/sub/' && mv '$d/out' '$d/out2' && cat '$d/out2' && cmp '$d/sub/readme.txt' /coda/docs/readme.txt && rm '$d/sub/readme.txt' && rmdir '$d/sub' && echo all-written"
	expect_rc c 0 && expect_grep c out all-written && [ "$(cat "$d/out2")" = hello ] || {
		note "host side: $(ls -la "$d" 2>&1)"
		return 1
	}
}

t cx exit_status_passes_through
exit_status_passes_through() {
	local ok=0 n
	for n in 0 1 42 255; do
		cx e$n --volume "$VOL" --cache "$CACHE" -- sh -c "exit $n"
		expect_rc e$n $n || ok=1
	done
	cx f --volume "$VOL" --cache "$CACHE" -- false
	expect_rc f 1 || ok=1
	# without any option, as in the manual
	cx e7 -- sh -c 'exit 7'
	expect_rc e7 7 || ok=1
	return $ok
}

t cx killed_by_signal_exits_128_plus_n
killed_by_signal_exits_128_plus_n() {
	local ok=0
	cx s15 --volume "$VOL" --cache "$CACHE" -- sh -c 'kill -TERM $$'
	expect_rc s15 143 || ok=1
	cx s9 --volume "$VOL" --cache "$CACHE" -- sh -c 'kill -KILL $$'
	expect_rc s9 137 || ok=1
	cx s1 --volume "$VOL" --cache "$CACHE" -- sh -c 'cd /coda && kill -HUP $$'
	expect_rc s1 129 || ok=1
	return $ok
}

t cx missing_command_exits_127
missing_command_exits_127() {
	local ok=0
	cx m1 -- no-such-command-coda-e2e
	expect_rc m1 127 || ok=1
	[ -s "$T/m1.err" ] || {
		note "no message on stderr for a missing command"
		ok=1
	}
	cx m2 -- /nonexistent/dir/prog
	expect_rc m2 127 || ok=1
	cx m3 --volume "$VOL" --cache "$CACHE" -- /coda/no-such-prog
	expect_rc m3 127 || ok=1
	return $ok
}

t cx non_executable_exits_126
non_executable_exits_126() {
	local ok=0
	printf 'echo not executable\n' >"$HOSTDIR/noexec.sh"
	chmod 644 "$HOSTDIR/noexec.sh"
	cx n1 -- "$HOSTDIR/noexec.sh"
	expect_rc n1 126 || ok=1
	cx n2 -- "$HOSTDIR"
	expect_rc n2 126 || ok=1
	cx n3 --volume "$VOL" --cache "$CACHE" -- /coda/modes/normal.txt
	expect_rc n3 126 || ok=1
	return $ok
}

# expect_own_failure TAG [REGEX]: coda-exec failed itself: status 125,
# exactly one line on stderr (matching the extended REGEX if given), and
# nothing on stdout (the command did not run).
expect_own_failure() {
	local ok=0
	expect_rc "$1" 125 || ok=1
	if [ "$(wc -l <"$T/$1.err")" != 1 ] || ! grep -Eq -- "${2:-.}" "$T/$1.err"; then
		note "stderr must be exactly one line${2:+ matching $2}, got:"
		cat "$T/$1.err" >>"$DETAIL"
		ok=1
	fi
	if [ -s "$T/$1.out" ]; then
		note "stdout must be empty, got: $(head -c 300 "$T/$1.out")"
		ok=1
	fi
	return $ok
}

t cx bad_option_exits_125_with_one_line
bad_option_exits_125_with_one_line() {
	local ok=0
	cx b --no-such-option-e2e -- true
	expect_own_failure b '^coda-exec: --no-such-option-e2e: unknown option \(try --help\)$' || ok=1
	cx s -vq -- true
	expect_own_failure s '^coda-exec: -q: unknown option \(try --help\)$' || ok=1
	cx a --serve
	expect_own_failure a '^coda-exec: --serve: needs an argument \(try --help\)$' || ok=1
	return $ok
}

t cx bad_timeout_exits_125_naming_the_option
bad_timeout_exits_125_naming_the_option() {
	local ok=0 secs
	for secs in 0 -1 2x '' 86401 4294967297; do
		cx t --timeout "$secs" --volume "$VOL" --cache "$CACHE" -- echo ran
		expect_own_failure t "^coda-exec: --timeout $secs: not a whole number of seconds from 1 to 86400 \(the default is 30\)\$" || ok=1
	done
	return $ok
}

# NO_LISTENER: a program that runs a command as on a kernel without seccomp
# user notification (no_listener.c).
NO_LISTENER=$WORK/no_listener
cc -O2 -o "$NO_LISTENER" "$HERE/no_listener.c" || exit 125

t cx kernel_without_user_notification_exits_125_naming_the_kernel_needed
kernel_without_user_notification_exits_125_naming_the_kernel_needed() {
	local ok=0 err
	for err in EINVAL ENOSYS; do
		"$NO_LISTENER" "$err" "$CODA_EXEC" --volume "$VOL" --cache "$CACHE" -- echo ran \
			>"$T/k.out" 2>"$T/k.err"
		echo $? >"$T/k.rc"
		expect_own_failure k '^coda-exec: cannot install the seccomp filter: this kernel has no seccomp user notification \(SECCOMP_FILTER_FLAG_NEW_LISTENER, Linux 5\.0\), or a seccomp filter above coda-exec refuses it; coda-exec needs Linux 5\.14 or later \(SECCOMP_ADDFD_FLAG_SEND\)$' || ok=1
	done
	return $ok
}

# Linux 5.0 to 5.13: a listener, but no ADDFD with SEND, which every open
# under the mount needs. Found before the command runs, not at its first open.
t cx kernel_without_addfd_send_exits_125_before_the_command_runs
kernel_without_addfd_send_exits_125_before_the_command_runs() {
	"$NO_LISTENER" NO_ADDFD_SEND "$CODA_EXEC" --volume "$VOL" --cache "$CACHE" -- echo ran \
		>"$T/k.out" 2>"$T/k.err"
	echo $? >"$T/k.rc"
	expect_own_failure k '^coda-exec: cannot install the seccomp filter: this kernel has seccomp user notification but cannot answer a call with an fd \(SECCOMP_ADDFD_FLAG_SEND, Linux 5\.14\); coda-exec needs Linux 5\.14 or later$'
}

# coda-exec alone, without the coda-venus program it starts (embedded only).
[ -z "${CODA_E2E_TESTVENUS:-}" ] && t cx missing_venus_program_exits_125_with_one_line
missing_venus_program_exits_125_with_one_line() {
	local alone=$WORK/alone/bin
	mkdir -p "$alone" && cp -- "$CODA_EXEC" "$alone/coda-exec" || return 1
	CODA_EXEC=$alone/coda-exec cx m --volume "$VOL" --cache "$CACHE" -- echo ran
	expect_own_failure m "^coda-exec: cannot start the embedded venus $(sed_escape "$alone")/.*coda-venus: No such file or directory\$"
}

# The embedded venus's volume and cache, which coda-exec checks before it
# starts it (a hosted venus's are its own business).
[ -z "${CODA_E2E_TESTVENUS:-}" ] && t cx missing_volume_dir_exits_125
missing_volume_dir_exits_125() {
	cx v --volume "$WORK/no-such-volume" --cache "$CACHE" -- echo ran
	expect_own_failure v "^coda-exec: --volume $(sed_escape "$WORK")/no-such-volume: No such file or directory \(create it, or leave the option out for the default\)\$"
}

# Before, venus failed on it and the command ran without /coda.
[ -z "${CODA_E2E_TESTVENUS:-}" ] && t cx missing_cache_dir_exits_125_before_the_command_runs
missing_cache_dir_exits_125_before_the_command_runs() {
	cx c --volume "$VOL" --cache "$WORK/no-such-dir/cache" -- echo ran
	expect_own_failure c "^coda-exec: --cache $(sed_escape "$WORK")/no-such-dir/cache: cannot create it: No such file or directory \(create its parent, or leave the option out for the default\)\$"
}

# (root may write any directory)
[ "$(id -u)" != 0 ] && [ -z "${CODA_E2E_TESTVENUS:-}" ] &&
	t cx unwritable_cache_dir_exits_125_before_the_command_runs
unwritable_cache_dir_exits_125_before_the_command_runs() {
	mkdir -p "$WORK/ro-cache" && chmod 555 "$WORK/ro-cache" || return 1
	cx c --volume "$VOL" --cache "$WORK/ro-cache" -- echo ran
	expect_own_failure c "^coda-exec: --cache $(sed_escape "$WORK")/ro-cache: Permission denied \(give a directory that uid $(id -u) may write\)\$"
}

t cx help_and_version_exit_0
help_and_version_exit_0() {
	local ok=0
	cx h --help
	expect_rc h 0 || ok=1
	expect_grep h out --volume || ok=1
	cx v --version
	expect_rc v 0 || ok=1
	if ! grep -Eq '[0-9]+\.[0-9]+' "$T/v.out"; then
		note "--version prints no version number: $(head -c 200 "$T/v.out")"
		ok=1
	fi
	return $ok
}

t cx verbose_flag_keeps_stdout_clean
verbose_flag_keeps_stdout_clean() {
	cx v -v --volume "$VOL" --cache "$CACHE" -- cat /coda/README.md
	expect_rc v 0 || return 1
	cmp -s "$T/v.out" "$VOL/README.md" || {
		note "stdout with -v differs from the file"
		return 1
	}
}

# --- --stats and --log

# stats_count FILE KIND NAME: the count of the --stats row KIND NAME in
# FILE, or 0 if it has none.
stats_count() {
	awk -v k="$2" -v n="$3" '$1 == "coda-exec:" && $2 == "stats:" && $3 == k && $4 == n { c = $5 } END { print c + 0 }' "$1"
}

# expect_stats_count TAG KIND NAME WANT: the --stats row KIND NAME on
# TAG's stderr counts WANT.
expect_stats_count() {
	local got
	got=$(stats_count "$T/$1.err" "$2" "$3")
	[ "$got" = "$4" ] && return 0
	note "$1: --stats row $2 $3 counts $got, expected $4:"
	grep -F 'coda-exec: stats:' "$T/$1.err" | head -20 >>"$DETAIL"
	return 1
}

# A kernel mount makes one LOOKUP and one GETATTR per object on first
# touch, and none for a name it has cached: so does coda-exec with a stock
# venus (the hosted test venus answers as one does), and with the embedded
# venus, which answers a LOOKUP with the attributes too, the LOOKUP alone.
# --stats counts them, with one statx per stat (coreutils' stat makes no
# other).
# Least privilege: the command keeps exactly the capabilities it has
# without coda-exec; the embedded venus keeps, of root's, only what serving
# a volume of any owner takes (none for anyone else), and no bounding set
# (a hosted venus's are its own business); the supervisor, once they have
# started, only what it needs, most of them out of effect.
[ -z "${CODA_E2E_TESTVENUS:-}" ] && t cx command_keeps_its_capabilities_and_venus_and_supervisor_only_what_they_need
command_keeps_its_capabilities_and_venus_and_supervisor_only_what_they_need() {
	local ok=0
	# Read once venus has answered: it drops what it does not keep before
	# it serves, but the command may start before that.
	cat >"$T/caps.sh" <<'EOS'
caps() { awk '$1 == "CapPrm:" { p = $2 } $1 == "CapEff:" { e = $2 } END { print p, e }' "/proc/$1/status"; }
ls /coda >/dev/null
caps $$
caps $PPID
for c in $(cat /proc/$PPID/task/$PPID/children); do
	if [ "$(cat /proc/$c/comm)" = coda-venus ]; then caps "$c"; fi
done
EOS
	cx caps --volume "$VOL" --cache "$CACHE" -- sh "$T/caps.sh"
	expect_rc caps 0 || return 1
	expect_out caps "$(caps_of $$)
$(supervisor_caps_wanted)
$(venus_caps_wanted)" || ok=1
	return $ok
}

t cx stats_count_one_lookup_and_getattr_per_new_file
stats_count_one_lookup_and_getattr_per_new_file() {
	local ok=0 getattrs=0
	[ -n "${CODA_E2E_TESTVENUS:-}" ] && getattrs=3
	cx s --stats --volume "$VOL" --cache "$CACHE" -- \
		stat -c %n /coda/README.md /coda/empty.txt /coda/one-byte.bin /coda/README.md
	expect_rc s 0 || return 1
	expect_stats_count s upcall LOOKUP 3 || ok=1
	expect_stats_count s upcall GETATTR "$getattrs" || ok=1
	expect_stats_count s syscall statx 4 || ok=1
	return $ok
}

# stats_with_and_without_stage WITH WITHOUT CMD...: CMD under coda-exec with
# --stage and without prints the same and exits 0, and the supervisor sees
# WITH and WITHOUT statx calls.
stats_with_and_without_stage() {
	local ok=0 with=$1 without=$2
	shift 2
	cx s --stage --stats --volume "$VOL" --cache "$CACHE" -- "$@"
	cx n --stats --volume "$VOL" --cache "$CACHE" -- "$@"
	expect_rc s 0 || ok=1
	expect_rc n 0 || ok=1
	expect_out s "$(cat "$T/n.out")" || ok=1
	expect_stats_count s syscall statx "$with" || ok=1
	expect_stats_count n syscall statx "$without" || ok=1
	return $ok
}

# --stage: the first stage answers a stat of a host path inside the program,
# so the supervisor sees no call for it; a /coda path's stat still reaches
# it. Both print what they print without the stage.
t cx stage_answers_host_stats_inside_the_program
stage_answers_host_stats_inside_the_program() {
	stats_with_and_without_stage 1 2 stat -c '%n %s %F' /etc/passwd /coda/README.md
}

# The stage is put into every program the command runs (a shell, then env,
# then a static busybox): none of their stats of a host file reaches the
# supervisor (what still may is a path the stage leaves to it: /proc's, a
# relative one).
t cx stage_is_in_every_program_of_an_exec_chain
stage_is_in_every_program_of_an_exec_chain() {
	local ok=0
	cx s --stage --stats --volume "$VOL" --cache "$CACHE" -- \
		sh -c 'stat -c %s /etc/passwd; env busybox stat -c %s /etc/passwd; exec env stat -c %s /etc/passwd'
	expect_rc s 0 || ok=1
	expect_out s "$(for i in 1 2 3; do stat -c %s /etc/passwd; done)" || ok=1
	expect_stats_count s syscall statx 0 || ok=1
	return $ok
}

# allowed SYSCALL ARGS...: does the call (a number, x86-64) succeed here?
# A container's profile denies kcmp and unshare to a user without
# capabilities; the stage then leaves relative names to the supervisor.
allowed() {
	"$PY" -c 'import ctypes, sys
args = [int(a) for a in sys.argv[1:]]
sys.exit(ctypes.CDLL(None, use_errno=True).syscall(*args) != 0)' "$@"
}
KCMP_FS_SELF="312 $$ $$ 3 0 0" # kcmp(us, us, KCMP_FS)

# A stat of a volume name the supervisor has answered once is answered by
# the stage from then on (its table, stage/stage.h), by absolute name or
# relative to a cwd in /coda, in the same program or a later one: the
# supervisor sees the first of each, and the output is what it says.
t cx stage_answers_a_volume_stat_the_supervisor_gave_before
stage_answers_a_volume_stat_the_supervisor_gave_before() {
	local relative=1
	# shellcheck disable=SC2086
	allowed $KCMP_FS_SELF || relative=3 # each relative stat reaches it
	stats_with_and_without_stage $((1 + relative)) 6 sh -c 'for i in 1 2 3; do stat -c "%n %s %i %Y %A" /coda/README.md; done
cd /coda/docs && for i in 1 2 3; do stat -c "%n %s %i %Y %A" readme.txt; done'
}

# Tasks of one program that do not share a cwd get relative names resolved
# from their own: a thread that unshares its cwd (CLONE_FS) and moves into
# /coda/docs, and a subshell that does, do not move the stage's idea of
# the others' cwd, though they share (or copied) its memory.
t cx stage_answers_relative_names_from_each_tasks_own_cwd
stage_answers_relative_names_from_each_tasks_own_cwd() {
	local ok=0
	cx s --stage --volume "$VOL" --cache "$CACHE" -- "$PY" -c 'import ctypes, os, threading
libc = ctypes.CDLL(None, use_errno=True)
def where(who):
    print(who, os.path.exists("README.md"), os.path.exists("readme.txt"))
def thread():
    if libc.unshare(0x200) != 0:  # CLONE_FS: denied in a container
        print("thread shares its cwd")
        return
    os.chdir("/coda/docs")
    where("thread")
os.chdir("/coda")
where("main")
t = threading.Thread(target=thread)
t.start()
t.join()
where("main")'
	expect_rc s 0 || ok=1
	if allowed 272 512; then # unshare(CLONE_FS)
		expect_out s "$(printf 'main True False\nthread False True\nmain True False')" || ok=1
	else
		expect_out s "$(printf 'main True False\nthread shares its cwd\nmain True False')" || ok=1
	fi
	cx c --stage --volume "$VOL" --cache "$CACHE" -- sh -c \
		'cd /coda && stat -c %n README.md && (cd docs && stat -c %n readme.txt) && stat -c %n README.md readme.txt'
	expect_rc c 1 || ok=1
	expect_out c "$(printf 'README.md\nreadme.txt\nREADME.md')" || ok=1
	return $ok
}

# Names relative to an fd, and the fd's own fstat, are answered as what the
# fd is now: a /coda directory's fd, the same fd made another /coda
# directory with dup2, then a host directory, then closed. The stage
# answers what the supervisor answered before for that directory (fewer
# calls reach it), and everything prints as without the stage.
t cx stage_answers_names_from_an_fd_as_what_the_fd_is_now
stage_answers_names_from_an_fd_as_what_the_fd_is_now() {
	local ok=0 s n
	cat >"$T/fds.py" <<'PY'
import os
def show(fd):
    for name in ("readme.txt", "level1", "passwd"):
        try:
            print(name, os.stat(name, dir_fd=fd, follow_symlinks=False).st_size > 0)
        except OSError as e:
            print(name, e.strerror)
    try:
        print(oct(os.fstat(fd).st_mode))
    except OSError as e:
        print(e.strerror)
docs, deep, etc = (os.open(p, os.O_RDONLY) for p in ("/coda/docs", "/coda/deep", "/etc"))
for i in range(3):
    show(docs)
os.dup2(deep, docs)
show(docs)
show(docs)
os.dup2(etc, docs)
show(docs)
os.close(docs)
show(docs)
PY
	chmod 644 "$T/fds.py"
	cx s --stage --stats --volume "$VOL" --cache "$CACHE" -- "$PY" "$T/fds.py"
	cx n --stats --volume "$VOL" --cache "$CACHE" -- "$PY" "$T/fds.py"
	expect_rc s 0 || ok=1
	expect_rc n 0 || ok=1
	expect_out s "$(cat "$T/n.out")" || ok=1
	s=$(awk '$4 == "newfstatat" { print $5 }' "$T/s.err")
	n=$(awk '$4 == "newfstatat" { print $5 }' "$T/n.err")
	if [ "${s:-0}" -ge "${n:-0}" ]; then
		note "with the stage, $s stats relative to an fd reached the supervisor; without it $n"
		ok=1
	fi
	return $ok
}

# --stage where coda-exec cannot trace the command (coda-exec itself is
# traced, by strace): the command runs as without it, and coda-exec says so.
t cx stage_that_cannot_trace_runs_without_it_and_says_so
stage_that_cannot_trace_runs_without_it_and_says_so() {
	local ok=0 real=$CODA_EXEC
	# LeakSanitizer cannot work under a tracer.
	printf '#!/bin/sh\nASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" exec strace -f -qq -o /dev/null %s "$@"\n' \
		"$real" >"$T/traced" && chmod 755 "$T/traced"
	CODA_EXEC=$T/traced
	cx s --stage --volume "$VOL" --cache "$CACHE" -- stat -c '%n %s' /etc/passwd /coda/README.md
	CODA_EXEC=$real
	expect_rc s 0 || ok=1
	expect_out s "$(stat -c '%n %s' /etc/passwd "$VOL/README.md" | sed "s|$VOL|/coda|")" || ok=1
	expect_grep s err "coda-exec: --stage: cannot trace the command" || ok=1
	return $ok
}

# --stage where a program inside the job is traced (strace inside): its
# exec cannot take the stage and would die at its first trapped call, so it
# is refused with EPERM, and coda-exec says why, once.
t cx stage_refuses_an_exec_a_debugger_traces_and_says_why
stage_refuses_an_exec_a_debugger_traces_and_says_why() {
	local ok=0
	cx s --stage --volume "$VOL" --cache "$CACHE" -- sh -c \
		'strace -o /dev/null true; echo "rc=$?"; strace -o /dev/null true; echo "rc=$?"'
	expect_rc s 0 || ok=1
	expect_out s "$(printf 'rc=1\nrc=1')" || ok=1
	expect_grep s err "cannot take the first stage" || ok=1
	if [ "$(grep -c 'cannot take the first stage' "$T/s.err")" != 1 ]; then
		note "s: the refusal is not said exactly once"
		ok=1
	fi
	return $ok
}

# The kernel kills a process whose trapped call finds SIGSYS blocked or
# ignored: the stage keeps it unblocked and its own, whatever the program
# asks, and the program's stats are still answered.
t cx stage_keeps_sigsys_when_the_program_blocks_or_ignores_it
stage_keeps_sigsys_when_the_program_blocks_or_ignores_it() {
	cx s --stage --volume "$VOL" --cache "$CACHE" -- "$PY" -c 'import os, signal
signal.pthread_sigmask(signal.SIG_BLOCK, range(1, 32))
print(os.stat("/etc/passwd").st_size > 0, os.path.exists("/coda/README.md"))
signal.signal(signal.SIGSYS, signal.SIG_IGN)
print(signal.getsignal(signal.SIGSYS) == signal.SIG_IGN, os.access("/etc", os.X_OK))'
	expect_rc s 0 && expect_out s "$(printf 'True True\nTrue True')"
}

# What bench/run.sh reads: a header, then rows of five fields (latencies
# in us with one decimal, or -), upcalls, downcalls, syscalls and memory in
# that order, each kind by count, the highest first; no row counts 0.
t cx stats_rows_follow_the_documented_format
stats_rows_follow_the_documented_format() {
	local row='^coda-exec: stats: (upcall|downcall|syscall|memory) [A-Za-z0-9_]+ [1-9][0-9]* ([0-9]+\.[0-9]|-) ([0-9]+\.[0-9]|-)$'
	cx f --stats --volume "$VOL" --cache "$CACHE" -- sh -c 'cat /coda/README.md; ls -l /coda/docs'
	expect_rc f 0 || return 1
	grep -F 'coda-exec: stats:' "$T/f.err" >"$T/f.rows"
	if [ "$(head -1 "$T/f.rows")" != 'coda-exec: stats: kind name count p50_us p99_us' ]; then
		note "no header first: $(head -1 "$T/f.rows")"
		return 1
	fi
	if tail -n +2 "$T/f.rows" | grep -Ev -- "$row" >"$T/f.bad"; then
		note "rows not in the format:"
		cat "$T/f.bad" >>"$DETAIL"
		return 1
	fi
	tail -n +2 "$T/f.rows" | awk '
		{ rank = index("upcall downcall syscall memory", $3) }
		rank < last { print "kind out of order: " $0; bad = 1 }
		rank == last && $3 != "memory" && $5 > prev { print "not by count: " $0; bad = 1 }
		{ last = rank; prev = $5 }
		END { exit bad }' >"$T/f.bad" || {
		cat "$T/f.bad" >>"$DETAIL"
		return 1
	}
	for r in 'upcall LOOKUP' 'upcall OPEN_BY_FD' 'syscall openat' 'memory supervisor_maxrss_kib' 'memory venus_maxrss_kib'; do
		grep -q "^coda-exec: stats: $r [1-9]" "$T/f.rows" || {
			note "no row $r:"
			cat "$T/f.rows" >>"$DETAIL"
			return 1
		}
	done
}

t cx stats_print_nothing_without_the_option
stats_print_nothing_without_the_option() {
	cx n --volume "$VOL" --cache "$CACHE" -- cat /coda/README.md
	cx y --stats --volume "$VOL" --cache "$CACHE" -- cat /coda/README.md
	expect_rc n 0 && expect_rc y 0 || return 1
	if [ -s "$T/n.err" ]; then
		note "stderr without --stats: $(head -c 600 "$T/n.err")"
		return 1
	fi
	expect_grep y err 'coda-exec: stats: upcall LOOKUP 1 '
}

# The command's stdout is its own: with --stats on stderr, or in the --log
# file, it is byte for byte what it is without.
t cx stats_go_to_log_file_not_to_command_output
stats_go_to_log_file_not_to_command_output() {
	local cmd='cat /coda/README.md; ls -l /coda/docs; echo to-stderr >&2' ok=0
	cx plain --volume "$VOL" --cache "$CACHE" -- sh -c "$cmd"
	cx err --stats --volume "$VOL" --cache "$CACHE" -- sh -c "$cmd"
	cx log --stats --log "$T/log.log" --volume "$VOL" --cache "$CACHE" -- sh -c "$cmd"
	expect_rc plain 0 || return 1
	same_outputs plain log "with --stats --log" || ok=1
	cmp -s "$T/plain.out" "$T/err.out" || {
		note "stdout with --stats differs:"
		diff -u "$T/plain.out" "$T/err.out" | head -20 >>"$DETAIL"
		ok=1
	}
	expect_grep err err 'coda-exec: stats: syscall openat ' || ok=1
	expect_grep log log 'coda-exec: stats: upcall LOOKUP ' || ok=1
	return $ok
}

# --trace, as Coda's codacon: a line per upcall with its number, opcode,
# the caller's uid and pid, the fid and name it is about, venus's answer
# and the time it took.
t cx trace_shows_each_upcall_with_its_caller_and_answer
trace_shows_each_upcall_with_its_caller_and_answer() {
	local ok=0 pid uid
	uid=$(id -u)
	rm -f "$T/pid.txt"
	PIDF=$T/pid.txt cx tr --trace --volume "$VOL" --cache "$CACHE" -- \
		sh -c 'echo $$ >"$PIDF"; exec stat -c %n /coda /coda/README.md /coda/no-such-name'
	pid=$(cat "$T/pid.txt")
	expect_rc tr 1 || return 1
	grep -E "^coda-exec: trace: upcall [0-9]+ LOOKUP uid=$uid pid=$pid fid=[0-9a-f.]{35} name=README.md -> 0 \([0-9]+\.[0-9] us\)$" \
		"$T/tr.err" >/dev/null || {
		note "no LOOKUP line for README.md as uid $uid pid $pid:"
		head -c 800 "$T/tr.err" >>"$DETAIL"
		ok=1
	}
	grep -qE "^coda-exec: trace: upcall [0-9]+ LOOKUP uid=$uid pid=$pid .* name=no-such-name -> ENOENT " "$T/tr.err" || {
		note "no LOOKUP line for the missing name answered ENOENT"
		ok=1
	}
	grep -qE "^coda-exec: trace: upcall [0-9]+ GETATTR uid=$uid pid=$pid fid=" "$T/tr.err" || {
		note "no GETATTR line (of the root, which no LOOKUP names)"
		ok=1
	}
	return $ok
}

t cx trace_goes_to_log_file_not_to_command_output
trace_goes_to_log_file_not_to_command_output() {
	local cmd='cat /coda/README.md; ls /coda/docs' ok=0
	rm -f "$T/trace.log"
	cx plain --volume "$VOL" --cache "$CACHE" -- sh -c "$cmd"
	cx log --trace --log "$T/trace.log" --volume "$VOL" --cache "$CACHE" -- sh -c "$cmd"
	expect_rc plain 0 || return 1
	same_outputs plain log "with --trace --log" || ok=1
	grep -q '^coda-exec: trace: upcall [0-9]* OPEN_BY_FD ' "$T/trace.log" || {
		note "no OPEN_BY_FD line in the log file"
		ok=1
	}
	return $ok
}

t cx log_file_is_created_0600_and_appended_to
log_file_is_created_0600_and_appended_to() {
	local ok=0 log=$T/appended.log
	rm -f "$log"
	cx a --stats --log "$log" --volume "$VOL" --cache "$CACHE" -- true
	cx b --stats --log "$log" --volume "$VOL" --cache "$CACHE" -- true
	expect_rc a 0 && expect_rc b 0 || return 1
	if [ "$(stat -c %a "$log")" != 600 ]; then
		note "mode $(stat -c %a "$log"), expected 600"
		ok=1
	fi
	if [ "$(grep -c '^coda-exec: stats: kind ' "$log")" != 2 ]; then
		note "two runs, not two headers: $(head -c 600 "$log")"
		ok=1
	fi
	return $ok
}

t cx log_file_is_not_inherited_by_the_command
log_file_is_not_inherited_by_the_command() {
	cx a --volume "$VOL" --cache "$CACHE" -- ls /proc/self/fd
	cx b --stats --log "$T/inherit.log" --volume "$VOL" --cache "$CACHE" -- ls /proc/self/fd
	expect_rc a 0 && expect_rc b 0 || return 1
	same_outputs a b "ls /proc/self/fd without and with --log"
}

t cx log_in_a_missing_directory_exits_125_with_one_line
log_in_a_missing_directory_exits_125_with_one_line() {
	cx l --log "$WORK/no-such-dir/log" --volume "$VOL" --cache "$CACHE" -- echo ran
	expect_own_failure l "^coda-exec: --log $(sed_escape "$WORK")/no-such-dir/log: No such file or directory\$"
}

# The embedded venus writes its --verbose lines to the --log file too (a
# hosted venus's are its own business).
[ -z "${CODA_E2E_TESTVENUS:-}" ] && t cx verbose_lines_go_to_the_log_file
verbose_lines_go_to_the_log_file() {
	local ok=0
	cx p --volume "$VOL" --cache "$CACHE" -- cat /coda/README.md
	cx v -v --log "$T/v.log" --volume "$VOL" --cache "$CACHE" -- cat /coda/README.md
	expect_rc p 0 || return 1
	same_outputs p v "cat with -v --log" || ok=1
	expect_grep v log ' name=README.md -> 0' || ok=1
	return $ok
}

t cx stdin_and_environment_pass_through
stdin_and_environment_pass_through() {
	local ok=0
	printf '%s  -\nmark-42\n' "$(md5sum <"$VOL/docs/lines.txt" | cut -d' ' -f1)" >"$T/i.want"
	export CODA_E2E_MARK=mark-42
	STDIN=$VOL/docs/lines.txt cx i --volume "$VOL" --cache "$CACHE" -- sh -c 'md5sum; echo "$CODA_E2E_MARK"'
	unset CODA_E2E_MARK
	expect_rc i 0 || ok=1
	cmp -s "$T/i.want" "$T/i.out" || {
		note "stdin/env not passed through: $(head -c 300 "$T/i.out")"
		ok=1
	}
	return $ok
}

t cx custom_mount_point_serves_volume
custom_mount_point_serves_volume() {
	local ok=0 m=/coda-e2e-mnt
	if [ -e "$m" ] || [ -e /coda ]; then
		note "$m or /coda exists on this host; the test needs them absent"
		return 1
	fi
	run_plain p 'ls -lR --time-style=full-iso | md5sum; pwd'
	sed -i "s|^$MNT\$|$m|" "$T/p.out"
	cx c --mount "$m" --volume "$VOL" --cache "$CACHE" -- sh -c "cd $m && ls -lR --time-style=full-iso | md5sum; pwd"
	same_outputs p c "--mount $m" || ok=1
	cx c2 --mount "$m" --volume "$VOL" --cache "$CACHE" -- ls /coda
	if [ "$(cat "$T/c2.rc")" = 0 ]; then
		note "/coda still served with --mount $m"
		ok=1
	fi
	return $ok
}

t cx two_runs_share_the_cache
two_runs_share_the_cache() {
	local ok=0
	cx a --volume "$VOL" --cache "$CACHE" -- md5sum /coda/big.bin
	cx b --volume "$VOL" --cache "$CACHE" -- md5sum /coda/big.bin
	printf '%s  /coda/big.bin\n' "$(md5sum <"$VOL/big.bin" | cut -d' ' -f1)" >"$T/want"
	expect_rc a 0 || ok=1
	expect_rc b 0 || ok=1
	cmp -s "$T/want" "$T/a.out" && cmp -s "$T/want" "$T/b.out" || {
		note "wrong checksums: $(cat "$T/a.out" "$T/b.out")"
		ok=1
	}
	return $ok
}

# --- robustness: a venus or supervisor that goes away or stops answering

# no_processes_left MARKER: every process with MARKER in its command line
# must be gone within 10 s; any left over is reported and killed by pid.
no_processes_left() {
	local i left
	for i in $(seq 100); do
		left=$(pgrep -f -- "$1") || return 0
		sleep 0.1
	done
	note "processes left behind: $(pgrep -a -f -- "$1" | tr '\n' ';')"
	for i in $left; do kill -9 "$i" 2>/dev/null; done
	return 1
}

# The venus is the other child of coda-exec ($PPID of the target's shell).

# The embedded venus is the coda-venus program beside coda-exec, started
# with the channel (fd 3) besides stdin, stdout and stderr, and nothing else
# of coda-exec's (epoll, signalfd, inotify, memfd...): every other fd it
# holds it opened itself, in the volume or the cache, or its own
# /proc/self/fd (venus/beneath.c). (Embedded only.)
[ -z "${CODA_E2E_TESTVENUS:-}" ] && t cx embedded_venus_is_coda_venus_holding_only_its_own_fds
embedded_venus_is_coda_venus_holding_only_its_own_fds() {
	local ok=0 want fd target vpid watches=0
	want=$(realpath -- "$(dirname -- "$CODA_EXEC")/../venus/coda-venus")
	cx c --volume "$VOL" --cache "$CACHE" -- sh -c 'exec 9</coda/README.md || exit 10
'"$FIND_VENUS"'
readlink /proc/$v/exe
echo $v
for f in /proc/$v/fd/*; do echo "${f##*/} $(readlink $f)"; done'
	expect_rc c 0 || return 1
	if [ "$(head -1 "$T/c.out")" != "$want" ]; then
		note "venus runs $(head -1 "$T/c.out"), not $want"
		ok=1
	fi
	vpid=$(sed -n 2p "$T/c.out")
	while read -r fd target; do
		case $fd:$target in
		[012]:* | 3:socket:* | *:"$VOL" | *:"$VOL"/* | *:"$CACHE" | *:"$CACHE"/* | *:/proc/"$vpid"/fd) ;;
		*:anon_inode:inotify)
			# its own, on the directories it keeps open (venus/dir_watch.c)
			watches=$((watches + 1))
			[ "$watches" = 1 ] || {
				note "venus holds a second inotify fd: $fd"
				ok=1
			}
			;;
		*)
			note "venus holds fd $fd -> $target"
			ok=1
			;;
		esac
	done < <(tail -n +3 "$T/c.out")
	grep -q '^3 socket:' "$T/c.out" || {
		note "venus has no channel at fd 3"
		ok=1
	}
	return $ok
}

t cx venus_killed_mid_run_gives_ENXIO_not_a_hang
venus_killed_mid_run_gives_ENXIO_not_a_hang() {
	local ok=0 start TMO=20 mark=coda-e2e-venus-killed-$$-$RANDOM
	start=$EPOCHREALTIME
	cx c --volume "$VOL" --cache "$CACHE" -- sh -c 'cat /coda/README.md | head -1 || exit 10
'"$FIND_VENUS"'
kill -9 $v || exit 11
# A call sent while venus is still dying gets EINTR, as from the kernel;
# once coda-exec has reaped it (the pid is gone) every call gets ENXIO.
i=0; while kill -0 $v 2>/dev/null && [ $i -lt 500 ]; do sleep 0.01; i=$((i + 1)); done
cat /coda/docs/readme.txt && exit 12
cat /coda/README.md >/dev/null && exit 13
ls /coda/links >/dev/null && exit 14
cat /etc/hostname >/dev/null && echo host-ok
exit 3' "$mark"
	expect_fast c "$start" 10 || ok=1
	expect_rc c 3 || ok=1
	expect_grep c out host-ok || ok=1
	expect_grep c err 'cat: /coda/docs/readme.txt: No such device or address' || ok=1
	if [ "$(grep -ci venus "$T/c.err")" != 1 ]; then
		note "coda-exec must say exactly one line about venus; stderr:"
		cat "$T/c.err" >>"$DETAIL"
		ok=1
	fi
	no_processes_left "$mark" || ok=1
	return $ok
}

t cx venus_stopped_times_out_with_clear_error
venus_stopped_times_out_with_clear_error() {
	local ok=0 start took TMO=20 mark=coda-e2e-venus-stopped-$$-$RANDOM
	start=$EPOCHREALTIME
	cx c --timeout 2 --volume "$VOL" --cache "$CACHE" -- sh -c 'cat /coda/README.md | head -1 || exit 10
'"$FIND_VENUS"'
kill -STOP $v || exit 11
t0=$(date +%s%N)
cat /coda/docs/lines.txt >/dev/null && { kill -CONT $v; exit 12; }
echo "waited $((($(date +%s%N) - t0) / 100000000))"
kill -CONT $v
cat /etc/hostname >/dev/null && echo host-ok
exit 4' "$mark"
	expect_fast c "$start" 12 || ok=1
	expect_rc c 4 || ok=1
	expect_grep c out host-ok || ok=1
	expect_grep c err 'cat: /coda/docs/lines.txt: Interrupted system call' || ok=1
	expect_grep c err 'made no progress on CODA_LOOKUP for 2 s' || ok=1
	# waited N tenths of a second: about the 2 s of --timeout
	took=$(sed -n 's/^waited //p' "$T/c.out")
	if [ -z "$took" ] || [ "$took" -lt 15 ] || [ "$took" -gt 80 ]; then
		note "the stopped venus made cat wait ${took:-?} tenths of a second, not about 20"
		ok=1
	fi
	no_processes_left "$mark" || ok=1
	return $ok
}

t cx supervisor_killed_does_not_hang_target
supervisor_killed_does_not_hang_target() {
	local ok=0 start TMO=20 mark=coda-e2e-sup-killed-$$-$RANDOM
	start=$EPOCHREALTIME
	# builtins only after the kill: an exec would be a trapped call too
	cx c --volume "$VOL" --cache "$CACHE" -- sh -c 'read l </coda/README.md || exit 10
echo "read: $l"
kill -9 $PPID
{ read l </coda/docs/readme.txt; } 2>&1
echo "after: $?"' "$mark"
	expect_fast c "$start" 10 || ok=1
	if [ "$(cat "$T/c.rc")" = 124 ]; then
		note "timed out"
		ok=1
	fi
	# the target outlives coda-exec: wait for it before reading its output
	no_processes_left "$mark" || ok=1
	expect_grep c out 'read: # coda-exec fixture volume' || ok=1
	expect_grep c out 'cannot open /coda/docs/readme.txt: Function not implemented' || ok=1
	expect_grep c out 'after: 2' || ok=1
	return $ok
}

# --- harness self-checks (self-test mode)
t self harness_detects_a_difference
harness_detects_a_difference() {
	# inode numbers differ between the two copies: the comparison must fail
	local saved=$DETAIL
	DETAIL=$T/expected-failure
	if same_as_plain 'ls -id . docs'; then
		DETAIL=$saved
		note "a real difference was not detected"
		return 1
	fi
	DETAIL=$saved
	grep -q '^+' "$T/expected-failure" || {
		note "no diff shown for a difference"
		return 1
	}
	if same_as_plain 'false' 2>/dev/null; then
		note "a failing reference run was not reported"
		return 1
	fi
	: >"$DETAIL"
}

t self fixture_is_deterministic
fixture_is_deterministic() {
	local ok=0
	"$HERE/make-volume.sh" "$WORK/vol3" >/dev/null 2>&1 || {
		note "second make-volume.sh failed"
		return 1
	}
	manifest "$WORK/vol3" | grep -v '/\.git/index$' >"$T/m3"
	grep -v '/\.git/index$' "$WORK/manifest.before" >"$T/m1"
	if ! cmp -s "$T/m1" "$T/m3"; then
		note "two builds of the fixture differ:"
		diff -u "$T/m1" "$T/m3" | head -40 >>"$DETAIL"
		ok=1
	fi
	rm -rf -- "$WORK/vol3"
	return $ok
}

# --- last: nothing above may have changed the volume
t cmp volume_unchanged_by_the_suite
volume_unchanged_by_the_suite() {
	manifest "$VOL" >"$WORK/manifest.after"
	cmp -s "$WORK/manifest.before" "$WORK/manifest.after" && return 0
	note "the plain volume directory changed:"
	diff -u "$WORK/manifest.before" "$WORK/manifest.after" | head -40 >>"$DETAIL"
	return 1
}

# ================================================================ main
if [ "$MODE" = real ]; then
	warn_if_mount_exists
fi
export MMAP_PROG BADCALLS_PROG

for i in "${!TESTS[@]}"; do
	kind=${KINDS[$i]}
	name=${TESTS[$i]}
	[ -n "$FILTER" ] && ! [[ $name =~ $FILTER ]] && [ "$name" != volume_unchanged_by_the_suite ] && continue
	case "$MODE:$kind" in
	real:self | self:cx) continue ;;
	esac
	run_test "$name"
done

# ------------------------------------------- the same again, unprivileged
if nobody_rerun_wanted; then
	nobody_prepare "$HERE/run.sh" "$HERE/make-volume.sh" "$HERE/mmap_md5.c" "$HERE/badcalls.c" \
		"$HERE/no_listener.c"
	cp -- "$MMAP_PROG" "$N/bin/mmap_md5"
	cp -- "$BADCALLS_PROG" "$N/bin/badcalls"
	[ "$MODE" = real ] && nobody_copy_coda_exec
	if [ "$MODE" = real ]; then
		first=$N/bin/coda-exec
	else
		first=--self-test
	fi
	rerun_as_nobody -- run.sh "$first" "$N/bin/mmap_md5" "$N/bin/badcalls"
fi

report_totals
