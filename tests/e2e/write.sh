#!/bin/bash
# End-to-end suite for the write path of coda-exec.
#
#   tests/e2e/write.sh CODA_EXEC [EDGECALLS_PROG]
#
# EDGECALLS_PROG is the built tests/e2e/edgecalls.c; missing, it is compiled
# here with cc.
#
# Most scenarios run the same shell command twice from the same starting tree
# (a "seed", copied with cp -a):
#   natively    in a plain copy directory (its path is mapped to /coda), and
#   under       coda-exec --volume VOL --cache CACHE -- sh -c 'cd /coda && CMD'
#               with a second copy of the seed as VOL,
# then compare (a) stdout, stderr and exit status byte for byte, and (b) the
# bytes on the backing volume: a manifest of both trees (relative path, type,
# mode, owner, link count, size, MD5, symlink target; mtimes only where the
# scenario sets them) must be equal.  In both runs $M is the mount (the plain
# dir natively, /coda under coda-exec) and $SCR a host scratch directory
# outside the volume (mapped to /SCR in the outputs).
#
# The other scenarios check what has no native counterpart against fixed
# expectations: session semantics (old readers keep the old bytes; a write
# open held through fork stores only when its last holder goes), EXDEV
# across the mount, EROFS with --read-only, and crashes (the target or venus
# killed with SIGKILL in the middle of a write or a store).
#
# Run as root, the suite reruns itself as nobody:nogroup (setpriv) on copies
# of the binaries, so privileged and unprivileged use are both covered.
#
# Every test prints "PASS name" or "FAIL name" (with the differences); the
# last line is "N passed, N failed"; the exit status is non-zero on failure.
#
# Environment: CODA_E2E_FILTER=REGEX runs only the matching tests;
# CODA_E2E_KEEP=1 keeps the temp dir; CODA_E2E_TIMEOUT (seconds, default
# 120) bounds each command.
#
# The helpers shared with the other suite are in tests/e2e/lib.sh.
set -uo pipefail

usage() {
	echo "usage: $0 CODA_EXEC [EDGECALLS_PROG]" >&2
	exit 2
}
[ $# -ge 1 ] && [ $# -le 2 ] || usage
[ -x "$1" ] || {
	echo "$0: $1: not an executable file" >&2
	exit 2
}
HERE=$(cd -- "$(dirname -- "$0")" && pwd -P)
. "$HERE/lib.sh"
CODA_EXEC=$(realpath -- "$1")

# A fixed, boring environment, the same for both sides of every comparison:
# lib.sh's, with fixed git identities and dates and no make or rsync options.
fixed_environment
export GIT_AUTHOR_NAME='E2E Author' GIT_AUTHOR_EMAIL=author@example.org
export GIT_COMMITTER_NAME='E2E Committer' GIT_COMMITTER_EMAIL=committer@example.org
export GIT_AUTHOR_DATE='2021-03-04T05:06:07Z' GIT_COMMITTER_DATE='2021-03-04T05:06:07Z'
unset MAKEFLAGS MFLAGS RSYNC_RSH

suite_settings
export PY BUSYBOX
export INO_TIMES=$HERE/ino_times.py

make_workdir coda-e2e-write

LIB=$WORK/lib       # generated helper scripts
SRC=$WORK/src       # generated source trees (outside every volume)
CASES=$WORK/cases   # one directory per scenario
T=$WORK/t           # outputs and diffs
make_dirs "$LIB" "$SRC" "$CASES" "$T"

EDGECALLS=${2:-}
if [ -z "$EDGECALLS" ]; then
	EDGECALLS=$LIB/edgecalls
	cc -O2 -o "$EDGECALLS" "$HERE/edgecalls.c" || exit 125
else
	EDGECALLS=$(realpath -- "$EDGECALLS")
fi
export EDGECALLS

# ----------------------------------------------------------------- helpers
# gentree.py DIR NDIRS FILES_PER_DIR: a deterministic tree of text and binary
# files (sha256 in counter mode), varied modes, names with spaces and
# unicode, symlinks (to files, to directories, dangling, absolute to the
# host), hard links across directories, and fixed mtimes with nanoseconds.
cat >"$LIB/gentree.py" <<'EOF'
import hashlib, os, sys

root, ndirs, per = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

def blob(seed, size):
    out = bytearray()
    i = 0
    while len(out) < size:
        out += hashlib.sha256(b"%s:%d" % (seed.encode(), i)).digest()
        i += 1
    return bytes(out[:size])

def text(seed, size):
    line = ("%s the quick brown fox jumps over the lazy dog alpha beta\n" % seed).encode()
    return (line * (size // len(line) + 1))[:size]

os.makedirs(root)
files, dirs, n = [], [], 0
for d in range(ndirs):
    for s in range(3):
        sub = os.path.join(root, "d%02d" % d, "s%d" % s)
        os.makedirs(sub)
        dirs.append(sub)
    for s in range(3):
        sub = os.path.join(root, "d%02d" % d, "s%d" % s)
        for f in range(per // 3):
            n += 1
            h = int(hashlib.md5(b"%d" % n).hexdigest(), 16)
            if n % 5 == 0:
                name, data = "b%03d.bin" % f, blob("b%d" % n, h % 20000)
            elif n % 97 == 0:
                name, data = "empty-%03d" % f, b""
            else:
                name, data = "f%03d.txt" % f, text("t%d" % n, h % 6000)
            if n % 101 == 0:
                name = "with space %03d.txt" % f
            if n % 103 == 0:
                name = "ünï-%03d.txt" % f
            if n % 107 == 0:
                name = "-dash-%03d" % f
            p = os.path.join(sub, name)
            with open(p, "wb") as fh:
                fh.write(data)
            mode = 0o644
            if n % 7 == 0: mode = 0o755
            if n % 11 == 0: mode = 0o600
            if n % 13 == 0: mode = 0o444
            os.chmod(p, mode)
            files.append(p)
# a few bigger files
for i in range(3):
    p = os.path.join(root, "d00", "big%d.bin" % i)
    with open(p, "wb") as fh:
        fh.write(blob("big%d" % i, 300000 + 12345 * i))
    files.append(p)
# hard links (across directories), every 53rd file, some with three names
links = []
for i, p in enumerate(files[::53]):
    q = os.path.join(root, "d%02d" % ((i * 7) % ndirs), "hl-%03d" % i)
    os.link(p, q)
    links.append(q)
    if i % 4 == 0:
        os.link(p, q + "-third")
        links.append(q + "-third")
# symlinks
syms = []
for i, p in enumerate(files[3::61]):
    q = os.path.join(root, "d%02d" % (i % ndirs), "ln-%03d" % i)
    os.symlink(os.path.relpath(p, os.path.dirname(q)), q)
    syms.append(q)
for i in range(4):
    q = os.path.join(root, "d%02d" % i, "dirlink")
    os.symlink("s1", q)
    syms.append(q)
for i, t in enumerate(["../nowhere/at-all", "dangling-target", "/etc/hostname"]):
    q = os.path.join(root, "d01", "odd-link-%d" % i)
    os.symlink(t, q)
    syms.append(q)
os.makedirs(os.path.join(root, "empty-dir"))
os.makedirs(os.path.join(root, "private-dir"))
os.chmod(os.path.join(root, "private-dir"), 0o700)
os.chmod(os.path.join(root, "d02"), 0o750)
# fixed times, nanoseconds included; directories last, deepest first
t0 = 1600000000
for i, p in enumerate(files + links):
    os.utime(p, ns=((t0 + i * 37) * 10**9 + 123456789, (t0 + i * 41) * 10**9 + 987654321))
for i, q in enumerate(syms):
    os.utime(q, ns=((t0 + i) * 10**9 + 5, (t0 + i * 3) * 10**9 + 500000001), follow_symlinks=False)
alldirs = [r for r, _, _ in os.walk(root)]
for i, d in enumerate(sorted(alldirs, key=lambda x: -x.count("/"))):
    os.utime(d, ns=((t0 + i) * 10**9 + 1, (t0 + i * 5) * 10**9 + 250000000))
EOF

# ---------------------------------------------------------------- reporting
init_reporting
# same_outputs (lib.sh) says "outputs differ" and shows 40 lines of stdout diff
SAME_OUTPUTS_DIFFER="outputs differ"
SAME_OUTPUTS_LINES=40
note_file() { # FILE [LINES]: a file's head, indented
	head -n "${2:-20}" "$1" | cut -c1-300 | sed 's/^/    /' >>"$DETAIL"
}

# no_leftovers DIR: nothing but what the scenario made may be in the volume
# (no temp files of a store, no containers).
no_store_temps() {
	local junk
	junk=$(find "$1" -name '.coda-*' -o -name '.w.*' -o -name '.new.*' | head -5)
	[ -z "$junk" ] && return 0
	note "temp files left in the volume: $junk"
	return 1
}

ME=$(id -un)
NOBODY_RUN=
[ "$(id -u)" != 0 ] && NOBODY_RUN=1

# ============================================================== scenarios

# --- archives and copies
t tar_x_of_large_tree_with_links
tar_x_of_large_tree_with_links() {
	new_case
	copy_seed || return 1
	local MT=all
	same_as_native 'tar xf "$TARBALL" && diff -r --no-dereference tree "$SRC/tree" && echo identical &&
		find tree -type f | wc -l && find tree -type l | wc -l && find tree -type f -links +1 | wc -l &&
		find tree -printf "%y %m %n %s %p\n" | sort | md5sum'
}

t cp_a_of_tree_into_coda
cp_a_of_tree_into_coda() {
	new_case
	copy_seed || return 1
	local MT='^\./(copy|copy2|big\.bin)(/|$)'
	same_as_native 'cp -a "$SRC/small" copy && diff -r --no-dereference copy "$SRC/small" && echo identical &&
		cp -a copy/d00 copy2 && cp -r copy/d01/s0 plain-r && cp --preserve=mode,timestamps copy/d00/big0.bin big.bin &&
		cmp big.bin "$SRC/small/d00/big0.bin" && echo copied'
}

t rsync_a_of_tree_into_coda
rsync_a_of_tree_into_coda() {
	new_case
	copy_seed || return 1
	local MT=all
	same_as_native 'rsync -aH "$SRC/small/" copy/ && diff -r --no-dereference copy "$SRC/small" && echo identical &&
		echo "second rsync -ai: $(rsync -aHi "$SRC/small/" copy/ | wc -l) changes" &&
		echo "checksum rsync -ci: $(rsync -aHci "$SRC/small/" copy/ | wc -l) changes" &&
		rsync -a --delete "$SRC/small/d01/" copy/d00/ && diff -r --no-dereference copy/d00 "$SRC/small/d01" && echo synced'
}

# --- editing and renaming
seed_docs() { # DIR: a few text files, modes, a hard link, a directory tree
	local d=$1
	mkdir -p "$d/dir1/sub" "$d/dir2" "$d/empty" "$d/full/x"
	printf 'alpha one\nbeta two\nalpha three\n' >"$d/a.txt"
	printf 'bravo\nalpha\n' >"$d/b.txt"
	seq 1 2000 >"$d/c.txt"
	printf 'linked alpha\n' >"$d/hl1.txt"
	ln "$d/hl1.txt" "$d/hl2.txt"
	printf 'secret alpha\n' >"$d/private.txt"
	chmod 640 "$d/private.txt"
	printf 'in dir1\n' >"$d/dir1/f"
	printf 'in sub\n' >"$d/dir1/sub/g"
	ln -s ../a.txt "$d/dir1/sub/link"
	printf 'x\n' >"$d/full/x/y"
	head -c 300000 /dev/zero | tr '\0' 'z' >"$d/big.txt"
	touch -d '2020-01-02 03:04:05.123456789' "$d"/*.txt "$d"/dir1/f "$d"/dir1/sub/g "$d/full/x/y"
	touch -h -d '2020-01-02 03:04:05.5' "$d/dir1/sub/link"
}

t sed_i_edits_files
sed_i_edits_files() {
	new_case
	seed_docs "$C/seed"
	copy_seed || return 1
	same_as_native 'sed -i "s/alpha/ALPHA/g" a.txt b.txt private.txt && sed -i.bak 1d c.txt && sed -i "\$a appended" hl1.txt &&
		sed -i -e "s/z/Z/g" big.txt && cat a.txt b.txt private.txt hl1.txt hl2.txt && head -2 c.txt c.txt.bak &&
		md5sum big.txt && stat -c "%n %a %h %s" *.txt *.bak'
}

# Writing a file does not change its directory on a kernel mount: the
# store's temp file and rename do not show in the directory's times, also
# where venus may search the directory but not list it (0300: as nobody, it
# reaches the directory by an O_PATH fd).
t store_in_a_directory_venus_cannot_list_keeps_its_times
store_in_a_directory_venus_cannot_list_keeps_its_times() {
	local d rc
	new_case
	mkdir "$C/seed/wx" && echo old >"$C/seed/wx/f" || return 1
	copy_seed || return 1
	for d in "$P/wx" "$V/wx"; do
		chmod 0300 "$d" && touch -d '2020-01-02 03:04:05.5' "$d" || return 1
	done
	same_as_native 'echo new >wx/f && cat wx/f && stat -c "%n %y" wx'
	rc=$?
	if [ "$(stat -c %y "$V/wx")" != "$(stat -c %y "$P/wx")" ]; then
		note "the volume's directory: $(stat -c %y "$V/wx"), natively $(stat -c %y "$P/wx")"
		rc=1
	fi
	chmod 0700 "$P/wx" "$V/wx"
	return $rc
}

t mv_renames_files_and_directories
mv_renames_files_and_directories() {
	new_case
	seed_docs "$C/seed"
	copy_seed || return 1
	local MT=files
	same_as_native 'mv a.txt b.txt && mv dir1 dir3 && mv dir3/sub dir2/ && mv -T dir2 empty && mv hl2.txt empty/hl3.txt &&
		mv c.txt C.TXT && { mv -T empty full 2>&1; echo "mv over non-empty dir: $?"; } &&
		cat b.txt empty/sub/g && readlink empty/sub/link && ls -R . && stat -c "%n %h" hl1.txt empty/hl3.txt'
}

t mv_to_host_tmp_and_back_copies_across_devices
mv_to_host_tmp_and_back_copies_across_devices() {
	new_case
	seed_docs "$C/seed"
	copy_seed || return 1
	local MT=all
	same_as_native 'mv big.txt "$SCR/" && mv dir1 "$SCR/dir1" && mv private.txt hl1.txt hl2.txt "$SCR/" && ls -A . && echo -- &&
		ls -lAR "$SCR" | grep -v ^total | sed "s/ [A-Z][a-z][a-z] .* / /" && mv "$SCR/big.txt" back.txt && mv "$SCR/dir1" dir1-back &&
		mv "$SCR/private.txt" "$SCR/hl1.txt" "$SCR/hl2.txt" . && md5sum back.txt dir1-back/f && stat -c "%n %a %h" hl1.txt private.txt &&
		ls -A "$SCR" | wc -l'
}

# --- git
t git_workflow_in_coda
git_workflow_in_coda() {
	new_case
	mkdir -p "$C/seed/src/lib"
	seq 1 500 >"$C/seed/src/numbers.txt"
	printf '#include <stdio.h>\nint main(void) { puts("hi"); return 0; }\n' >"$C/seed/src/main.c"
	printf 'lib\n' >"$C/seed/src/lib/x.txt"
	printf '#!/bin/sh\necho run\n' >"$C/seed/src/run.sh"
	chmod 755 "$C/seed/src/run.sh"
	ln -s lib/x.txt "$C/seed/src/link"
	copy_seed || return 1
	# the index holds inode numbers and ctimes; everything else is
	# deterministic with fixed identities and dates and one pack thread
	local MX='^\./repo/\.git/index$'
	same_as_native 'git init -q -b main repo && cp -a src/. repo/ && cd repo &&
		git add -A && git commit -q -m one && git status --porcelain && echo -- &&
		echo more >>numbers.txt && rm lib/x.txt && echo new >new.txt && git status --porcelain && echo -- &&
		git checkout -q -b other && git add -A && git commit -q -m two &&
		git checkout -q main && git status --porcelain && cat numbers.txt | wc -l && ls && echo -- &&
		git -c pack.threads=1 gc -q && git log --stat --all && git status --porcelain &&
		git fsck --full --strict 2>&1 && git rev-parse HEAD HEAD^{tree} other^{tree} && git count-objects -v'
}

# --- make
seed_make() { # DIR: a small C project with a static library
	local d=$1/proj
	mkdir -p "$d"
	for n in a b c; do
		printf 'int f_%s(int x) { return x * %d + %d; }\n' $n "${#n}" "$(printf '%d' "'$n")" >"$d/$n.c"
	done
	printf 'int f_a(int);\nint f_b(int);\nint f_c(int);\n' >"$d/lib.h"
	cat >"$d/main.c" <<'EOF'
#include <stdio.h>
#include "lib.h"
int main(void) { printf("result %d\n", f_a(1) + f_b(2) + f_c(3)); return 0; }
EOF
	cat >"$d/Makefile" <<'EOF'
CC = gcc
CFLAGS = -O1
all: prog run
libfoo.a: a.o b.o c.o
	ar rcs $@ $^
%.o: %.c lib.h
	$(CC) $(CFLAGS) -c -o $@ $<
prog: main.o libfoo.a
	$(CC) -o $@ main.o -L. -lfoo
# exec of a program in /coda is EACCES (README); the dynamic loader maps it
run: prog
	/lib64/ld-linux-x86-64.so.2 ./prog
.PHONY: all run
EOF
	touch -d '2020-01-01 00:00:00' "$d"/*
}

t make_j2_builds_and_rebuilds_only_what_changed
make_j2_builds_and_rebuilds_only_what_changed() {
	new_case
	seed_make "$C/seed"
	copy_seed || return 1
	same_as_native 'cd proj && { make -j2 2>&1; echo "make rc $?"; } | sort && echo -- &&
		make -j2 prog 2>&1 && echo -- && touch b.c && { make -j2 2>&1; echo "make rc $?"; } | sort && echo -- &&
		make -q prog; echo "make -q: $?" && ar t libfoo.a'
}

# --- sqlite
t sqlite3_ten_transactions_of_1000_rows
sqlite3_ten_transactions_of_1000_rows() {
	new_case
	copy_seed || return 1
	{
		echo 'CREATE TABLE t(id INTEGER PRIMARY KEY, v INTEGER, s TEXT);'
		awk 'BEGIN { for (tx = 0; tx < 10; tx++) { print "BEGIN;"; for (i = 1; i <= 1000; i++) { n = tx * 1000 + i;
			printf "INSERT INTO t(v, s) VALUES (%d, %crow-%d-%s%c);\n", n * 7 % 1009, 39, n, "padding-padding-padding", 39 }; print "COMMIT;" } }'
	} >"$C/ins.sql"
	export INS=$C/ins.sql
	same_as_native 'sqlite3 db.sqlite <"$INS" && ls -A && sqlite3 db.sqlite "SELECT count(*), sum(v), max(id) FROM t; PRAGMA integrity_check;" &&
		sqlite3 db.sqlite "BEGIN; DELETE FROM t WHERE id % 3 = 0; UPDATE t SET v = v + 1 WHERE id % 5 = 0; COMMIT; VACUUM;" &&
		sqlite3 db.sqlite "SELECT count(*), sum(v) FROM t; PRAGMA integrity_check;" &&
		sqlite3 wal.sqlite "PRAGMA journal_mode=WAL; CREATE TABLE w(x); INSERT INTO w VALUES (1), (2), (3);" &&
		sqlite3 wal.sqlite "SELECT sum(x) FROM w; PRAGMA integrity_check;" && ls -A'
}

# --- python's file API
t python_file_api
python_file_api() {
	new_case
	seed_docs "$C/seed"
	copy_seed || return 1
	local MT='^\./(copied(/.*)?|stamped.*)$'
	same_as_native '"$PY" - <<"EOF"
import os, shutil, stat
os.makedirs("a/b/c", mode=0o750)
os.makedirs("a/b/c", exist_ok=True)
with open("a/b/c/f.txt", "w") as f:
    f.write("x" * 1000)
with open("new.json", "w") as f:
    f.write("{\"v\": 1}\n")
os.replace("new.json", "a/config.json")
with open("a/config.json", "a") as f:
    f.write("{\"v\": 2}\n")
with open("a.txt", "r+") as f:
    f.seek(6); f.write("ONE")
with open("bin.dat", "wb") as f:
    for i in range(64):
        f.write(bytes([i]) * 4096)
    f.seek(10); f.write(b"hole?"); f.seek(300000); f.write(b"end")
shutil.copytree("dir1", "copied", symlinks=True)
shutil.copy2("big.txt", "stamped-big.txt")
shutil.copyfile("c.txt", "c-copy.txt")
shutil.rmtree("full")
os.chmod("a/b/c/f.txt", 0o600)
os.chmod("a/b", 0o711)
os.utime("stamped-big.txt", ns=(1500000000123456789, 1600000000987654321))
open("stamped-empty", "w").close()
os.utime("stamped-empty", (1234567890, 1234567891))
os.truncate("c-copy.txt", 100)
os.symlink("a/config.json", "cfg-link")
os.link("bin.dat", "bin-link.dat")
os.rename("b.txt", "a/b/renamed.txt")
os.mkdir("tmpdir"); os.rmdir("tmpdir")
os.unlink("hl2.txt")
for root, dirs, files in sorted(os.walk(".")):
    for n in sorted(dirs + files):
        p = os.path.join(root, n)
        st = os.lstat(p)
        print(p, oct(st.st_mode), st.st_nlink, st.st_size if not stat.S_ISDIR(st.st_mode) else "-",
              st.st_mtime_ns if n.startswith("stamped") else "")
print(open("a/config.json").read(), open("a.txt").read(), len(open("bin.dat", "rb").read()))
EOF'
}

# --- busybox (statically linked: no libc shim could help it)
t busybox_cp_mv_rm_mkdir_tar
busybox_cp_mv_rm_mkdir_tar() {
	new_case
	seed_docs "$C/seed"
	copy_seed || return 1
	local MT=reg
	same_as_native '$BUSYBOX mkdir -p x/y/z && $BUSYBOX cp -a "$SRC/small" bb && $BUSYBOX mv bb/d00 x/y/ &&
		$BUSYBOX mv a.txt x/y/z/moved.txt && $BUSYBOX rm -r bb/d01 dir1 && $BUSYBOX mkdir -p x/y/z/w &&
		$BUSYBOX tar xf "$SMALLTAR" && $BUSYBOX rm -rf full && $BUSYBOX cp -p b.txt x/copied.txt &&
		$BUSYBOX find . | sort | $BUSYBOX md5sum && diff -r --no-dereference small "$SRC/small" && echo identical'
}

# --- modes
t umask_027_gives_native_modes
umask_027_gives_native_modes() {
	new_case
	copy_seed || return 1
	same_as_native 'umask 027; touch f; mkdir d; echo x >g; mkdir -p p/q; mkdir -m 777 m;
		"$PY" -c "import os; os.close(os.open(\"h\", os.O_CREAT | os.O_WRONLY, 0o777)); os.mkdir(\"e\", 0o777)"
		(umask 077; touch u077; mkdir d077); (umask 0; touch u000; mkdir d000; ln -s f sl);
		(umask 002; cp /etc/hostname copied; install -m 4755 /dev/null suid; install -d inst);
		chmod g+s d; mkdir d/sub; touch d/sub/f; chmod 1777 p; chmod 0 u000;
		stat -c "%n %a %F" * d/sub d/sub/f | sort'
}

# A file a command makes on the host through the mount (in a cwd reached by
# /coda/..) is made by the supervisor, as the kernel would make it: owned
# by the command's fsuid and fsgid, with its umask. Run by root, the
# command first becomes nobody (in scratch directories anyone may write to).
t host_file_made_through_the_mount_is_the_command_own
host_file_made_through_the_mount_is_the_command_own() {
	new_case
	copy_seed || return 1
	local drop= cmd ok=0
	[ "$(id -u)" = 0 ] && drop='setpriv --reuid=nobody --regid=nogroup --clear-groups '
	chmod 1777 "$SP" "$SC"
	cmd="umask 027 && cd -P \"\$THRU\$SCR\" && ${drop}sh -c 'echo x >made && stat -c \"%n %a %U %G %s\" made'"
	export THRU=
	run_plain plain "$cmd"
	export THRU=/coda/..
	run_coda coda "$cmd"
	unset THRU
	expect_rc plain 0 || ok=1
	same_outputs plain coda "$cmd, natively and through /coda/.." || ok=1
	return $ok
}

# With --stage, stats of /coda are answered from a table the supervisor
# keeps (stage/stage.h): no answer outlives a change. A file stat'ed, then
# appended to, chmod'ed, renamed, linked, stat'ed while open for writing,
# removed and made a directory, is stat'ed after each step, by absolute
# name and relative to a cwd in /coda, in a subshell and after a cd, as
# natively.
t stage_keeps_no_stat_answer_past_a_change
stage_keeps_no_stat_answer_past_a_change() {
	new_case
	printf 'hi\n' >"$C/seed/f"
	copy_seed || return 1
	local cmd='s() { stat -c "%n %s %a %F" "$@" 2>&1; }
s f; s "$M/f"; s f
echo more >>f; s f "$M/f"
chmod 600 f; s f "$M/f"
mv f g; s f g "$M/g"
ln g h; stat -c "%n %h" g "$M/h"
mkdir d; (cd d && s ../g; cd "$M" && s g); s g
"$PY" -c "
import os
f = open(\"g\", \"a\"); a = os.stat(\"g\").st_size; f.write(\"x\" * 100); f.flush()
print(a, os.stat(\"g\").st_size, os.stat(os.environ[\"M\"] + \"/g\").st_size); f.close()
print(os.stat(\"g\").st_size)"
s g; rm g; s g h; mkdir g; s g "$M/g"'
	run_plain plain "$cmd"
	run_coda coda "$cmd" --stage
	expect_rc plain 0 && same_outputs plain coda "$cmd, natively and with --stage"
}

# --- identity and attributes of a written file
t inode_number_kept_across_writes
inode_number_kept_across_writes() {
	new_case
	printf 'one\n' >"$C/seed/f"
	copy_seed || return 1
	# tar (placeholders for symlinks and hard links) and sqlite ("database
	# moved") compare st_ino before and after a write
	same_as_native 'i0=$(stat -c %i f); echo two >f; i1=$(stat -c %i f); echo three >>f; i2=$(stat -c %i f);
		"$PY" -c "
import os
fd = os.open(\"g\", os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
a = os.fstat(fd); os.write(fd, b\"x\"); os.fsync(fd); b = os.stat(\"g\"); os.close(fd); c = os.stat(\"g\")
print(\"new file: fstat/stat while open/stat after close:\", \"same\" if a.st_ino == b.st_ino == c.st_ino else \"differ\")
"
		[ "$i0" = "$i1" ] && [ "$i1" = "$i2" ] && echo "f: same inode number after each write" || echo "f: $i0 $i1 $i2"; cat f'
}

# the order of atime, mtime and ctime, and which moved, after each step of a
# file's life (tests/e2e/ino_times.py): a store's rename and venus's own
# chown and chmod of a new file must not show
t times_after_each_write_step_move_as_on_a_local_fs
times_after_each_write_step_move_as_on_a_local_fs() {
	new_case
	copy_seed || return 1
	same_as_native '"$PY" "$INO_TIMES" times'
}

# st_ino against getdents64's d_ino for every name, through inode numbers
# that come back (removed directories) and stores that replace backing files
t st_ino_is_d_ino_below_2_63_and_kept_across_stores
st_ino_is_d_ino_below_2_63_and_kept_across_stores() {
	new_case
	copy_seed || return 1
	same_as_native '"$PY" "$INO_TIMES" ino'
}

# no native counterpart: the plain directory is on the host's file system
t statfs_and_df_name_the_file_system_coda
statfs_and_df_name_the_file_system_coda() {
	new_case
	mkdir "$C/seed/d"
	copy_seed || return 1
	local ok=0
	cx c --volume "$V" --cache "$K" -- sh -c 'stat -f -c "%T %t" /coda/d &&
		df -T /coda /coda/d | awk "{ print \$1, \$2, \$NF }" &&
		findmnt -n -o TARGET,SOURCE,FSTYPE,OPTIONS /coda && grep -c " /coda coda " /proc/mounts'
	expect_rc c 0 || ok=1
	expect_text c out 'coda 73757245
Filesystem Type on
coda coda /coda
coda coda /coda
/coda  coda   coda   rw,relatime
1' || ok=1
	expect_text c err '' || ok=1
	return $ok
}

t chmod_without_following_symlinks_reaches_the_volume
chmod_without_following_symlinks_reaches_the_volume() {
	new_case
	mkdir -m 700 "$C/seed/d"
	printf 'x\n' >"$C/seed/f"
	copy_seed || return 1
	# glibc's fchmodat(AT_SYMLINK_NOFOLLOW) opens the file O_PATH and
	# chmods /proc/self/fd/N (GNU tar restores every directory's mode so)
	same_as_native '"$PY" -c "
import os
os.chmod(\"d\", 0o755, follow_symlinks=False)
os.chmod(\"f\", 0o600, follow_symlinks=False)
fd = os.open(\"f\", os.O_RDONLY)
os.chmod(\"/proc/self/fd/%d\" % fd, 0o640)
os.close(fd)
" && stat -c "%n %a" d f'
}

t write_open_without_read_permission
write_open_without_read_permission() {
	new_case
	printf 'old\n' >"$C/seed/wo"
	copy_seed || return 1
	chmod 200 "$P/wo" "$V/wo" # after the copy: cp -a must read it
	# GNU tar's placeholder for a symlink is open(O_CREAT|O_EXCL|O_WRONLY, 0)
	same_as_native '"$PY" -c "
import os
for n, f, m in ((\"new0\", os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0), (\"new200\", os.O_CREAT | os.O_WRONLY, 0o200),
                (\"wo\", os.O_WRONLY | os.O_TRUNC, 0)):
    try:
        fd = os.open(n, f, m); os.write(fd, b\"written\\n\"); os.close(fd); print(n, \"ok\")
    except OSError as e: print(n, e.strerror)
" && stat -c "%n %a %s" new0 new200 wo'
}

# --- errors, compared with the native run
t errors_match_a_kernel_mount
errors_match_a_kernel_mount() {
	new_case
	seed_docs "$C/seed"
	copy_seed || return 1
	same_as_native '"$PY" - <<"EOF"
import errno, os
def t(name, f, *a, **k):
    try:
        r = f(*a, **k)
        if isinstance(r, int) and f is os.open:
            os.close(r)
        print(name, "ok")
    except OSError as e:
        print(name, errno.errorcode[e.errno])
t("mkdir existing dir", os.mkdir, "dir1")
t("mkdir existing file", os.mkdir, "a.txt")
t("open O_CREAT|O_EXCL existing", os.open, "a.txt", os.O_CREAT | os.O_EXCL | os.O_WRONLY)
t("open O_CREAT|O_EXCL existing dir", os.open, "dir1", os.O_CREAT | os.O_EXCL | os.O_WRONLY)
t("open O_CREAT on a dir", os.open, "dir1", os.O_CREAT | os.O_WRONLY)
t("rmdir non-empty", os.rmdir, "dir1")
t("rmdir file", os.rmdir, "a.txt")
t("rmdir missing", os.rmdir, "nope")
t("rmdir dot", os.rmdir, "dir2/.")
t("open dir O_WRONLY", os.open, "dir1", os.O_WRONLY)
t("open dir O_RDWR", os.open, "dir1", os.O_RDWR)
t("open dir O_WRONLY|O_TRUNC", os.open, "dir2", os.O_WRONLY | os.O_TRUNC)
t("unlink dir", os.unlink, "dir1")
t("unlink missing", os.unlink, "nope")
t("open file/x", os.open, "a.txt/x", os.O_RDONLY)
t("creat file/x", os.open, "a.txt/x", os.O_CREAT | os.O_WRONLY)
t("creat missing/x", os.open, "nope/x", os.O_CREAT | os.O_WRONLY)
t("mkdir file/x", os.mkdir, "a.txt/x")
t("mkdir missing/x", os.mkdir, "nope/x")
t("rename dir over file", os.rename, "dir2", "a.txt")
t("rename file over dir", os.rename, "a.txt", "dir2")
t("rename dir into itself", os.rename, "dir1", "dir1/sub/inner")
t("rename over non-empty dir", os.rename, "dir2", "dir1")
t("rename missing", os.rename, "nope", "nope2")
t("rename file/ trailing slash", os.rename, "a.txt/", "z.txt")
t("link to dir", os.link, "dir1", "dirlink")
t("link over existing", os.link, "a.txt", "b.txt")
t("link missing", os.link, "nope", "nope2")
t("symlink over existing", os.symlink, "x", "a.txt")
t("mkdir name too long", os.mkdir, "n" * 256)
t("creat name too long", os.open, "n" * 256, os.O_CREAT | os.O_WRONLY)
t("truncate dir", os.truncate, "dir1", 0)
t("truncate negative", os.truncate, "a.txt", -1)
t("mknod fifo in place of a file", os.mkfifo, "a.txt")
t("rename . ", os.rename, "dir2/.", "x")
t("mkdir trailing slash", os.mkdir, "newdir/")
t("rmdir trailing slash", os.rmdir, "newdir/")
t("open O_DIRECTORY file", os.open, "a.txt", os.O_RDONLY | os.O_DIRECTORY)
EOF
	mkdir dir1; rmdir dir1; rm dir1; rm -d dir2/; mkdir -p a.txt/b; cat dir2 >/dev/null; echo x >dir1
	true' 0 EISDIR
}

# Every trapped call on a trailing slash (file, directory, missing name,
# symlinks to each and dangling), and every trapped fd and *at call on fds
# that are closed, negative, AT_FDCWD, host files and directories, O_PATH
# fds and /coda files (tests/e2e/edgecalls.c): one line per call.
t trapped_calls_on_edge_names_and_fds_match_the_kernel
trapped_calls_on_edge_names_and_fds_match_the_kernel() {
	new_case
	copy_seed || return 1
	same_as_native '"$EDGECALLS" "$SCR"'
}

t access_checks_match_a_kernel_mount
access_checks_match_a_kernel_mount() {
	new_case
	seed_docs "$C/seed"
	printf 'x\n' >"$C/seed/ro"
	printf 'x\n' >"$C/seed/wo"
	copy_seed || return 1
	chmod 444 "$P/ro" "$V/ro"
	chmod 200 "$P/wo" "$V/wo"
	same_as_native '"$PY" -c "
import os
for n in (\"a.txt\", \"ro\", \"wo\", \"dir1\", \"nope\"):
    print(n, [m for m, b in ((\"r\", os.R_OK), (\"w\", os.W_OK), (\"x\", os.X_OK), (\"wx\", os.W_OK | os.X_OK))
             if os.access(n, b)], os.access(n, os.W_OK, effective_ids=True))
" && { test -w a.txt && echo a.txt writable; test -w ro || echo ro not writable; }'
}

# EACCES: as nobody, into a root-owned 0755 directory of the volume (the
# suite's root run prepares it); as root, the same calls succeed. Run by an
# ordinary user directly, nobody prepared it: not registered.
if [ "$(id -u)" = 0 ] || [ -n "${CODA_E2E_LOCKED:-}" ]; then
	t writes_into_root_owned_dir_match_native
fi
writes_into_root_owned_dir_match_native() {
	new_case
	if [ -n "$NOBODY_RUN" ]; then
		if [ -z "${CODA_E2E_LOCKED:-}" ]; then
			note "no root-owned directory prepared (run the suite as root)"
			return 1
		fi
		P=$CODA_E2E_LOCKED/plain
		V=$CODA_E2E_LOCKED/vol
	else
		mkdir -p "$C/seed/locked"
		printf 'root file\n' >"$C/seed/locked/ro.txt"
		chmod 755 "$C/seed/locked"
		copy_seed || return 1
	fi
	local want=0 msg=written
	[ -n "$NOBODY_RUN" ] && want=1 msg='Permission denied'
	same_as_native 'ok=0; touch locked/new || ok=1; mkdir locked/d || ok=1; echo x >>locked/ro.txt || ok=1;
		ln -s x locked/l || ok=1; chmod 600 locked/ro.txt || ok=1; chmod 750 locked || ok=1;
		cp locked/ro.txt locked/copy || ok=1; mv locked/ro.txt locked/ro2.txt || ok=1; rm -f locked/new || ok=1;
		"$PY" -c "
import errno, os
for f, a in ((os.open, (\"locked/p\", os.O_CREAT | os.O_WRONLY)), (os.mkdir, (\"locked/q\",)),
             (os.utime, (\"locked\", (1, 1))), (os.truncate, (\"locked/ro2.txt\", 0))):
    try: f(*a); print(f.__name__, \"ok\")
    except OSError as e: print(f.__name__, errno.errorcode[e.errno])
" && ls -A locked && [ $ok = 0 ] && echo written; exit $ok' "$want" "$msg"
}

# --- coda-only expectations
t exdev_across_the_mount_boundary
exdev_across_the_mount_boundary() {
	new_case
	seed_docs "$C/seed"
	copy_seed || return 1
	printf 'host file\n' >"$SC/h"
	local ok=0
	run_coda c 'ln /coda/a.txt "$SCR/y"; echo "ln: $?"; ln "$SCR/h" /coda/h; echo "ln back: $?"
		"$PY" -c "
import errno, os
for f, a, b in ((os.rename, \"/coda/a.txt\", os.environ[\"SCR\"] + \"/y\"), (os.rename, os.environ[\"SCR\"] + \"/h\", \"/coda/h\"),
                (os.link, \"/coda/a.txt\", os.environ[\"SCR\"] + \"/y\"), (os.link, os.environ[\"SCR\"] + \"/h\", \"/coda/h\"),
                (os.rename, \"/coda/dir1\", os.environ[\"SCR\"] + \"/d\")):
    try: f(a, b); print(f.__name__, a, b, \"ok\")
    except OSError as e: print(f.__name__, a, b, errno.errorcode[e.errno])
"'
	expect_rc c 0 || ok=1
	expect_text c out 'ln: 1
ln back: 1
rename /coda/a.txt /SCR/y EXDEV
rename /SCR/h /coda/h EXDEV
link /coda/a.txt /SCR/y EXDEV
link /SCR/h /coda/h EXDEV
rename /coda/dir1 /SCR/d EXDEV' || ok=1
	expect_text c err "ln: failed to create hard link '/SCR/y' => '/coda/a.txt': Invalid cross-device link
ln: failed to create hard link '/coda/h' => '/SCR/h': Invalid cross-device link" || ok=1
	# nothing changed on either side
	same_trees none || ok=1
	[ "$(ls -A "$SC")" = h ] || {
		note "host scratch dir now holds: $(ls -A "$SC" | tr '\n' ' ')"
		ok=1
	}
	return $ok
}

# The answers where a Coda mount differs from a local file system, as the
# README's table documents them (not compared with a native run).
# A full cache or volume: ENOSPC where the data is, as a kernel mount gives
# it (writes go to the container in the cache; a full volume fails the
# store, seen by fsync). Needs root for the small tmpfs file systems, and a
# mount(2) that no seccomp profile denies.
may_mount_tmpfs() {
	local d rc=1
	d=$(mktemp -d) || return 1
	if mount -t tmpfs -o size=1m tmpfs "$d" 2>/dev/null; then
		umount "$d"
		rc=0
	fi
	rmdir "$d"
	return $rc
}
if [ "$(id -u)" = 0 ] && may_mount_tmpfs; then
	t full_cache_or_volume_gives_ENOSPC
fi
full_cache_or_volume_gives_ENOSPC() {
	new_case
	mkdir -p "$C/fullcache" "$C/fullvol"
	mount -t tmpfs -o size=1m tmpfs "$C/fullcache" || return 1
	if ! mount -t tmpfs -o size=1m tmpfs "$C/fullvol"; then
		umount "$C/fullcache"
		return 1
	fi
	local ok=0
	cx a --volume "$C/fullvol" --cache "$C/fullcache" -- sh -c 'head -c 4194304 /dev/zero >/coda/big'
	expect_rc a 1 || ok=1
	grep -q 'No space left on device' "$T/a.err" || {
		note "a full cache: $(head -c 300 "$T/a.err")"
		ok=1
	}
	umount "$C/fullcache" # an empty cache on the disk now
	cx b --volume "$C/fullvol" --cache "$C/fullcache" -- "$PY" -c '
import os
fd = os.open("/coda/big2", os.O_CREAT | os.O_WRONLY, 0o644)
os.write(fd, b"x" * (4 << 20))
try:
    os.fsync(fd)
    print("fsync ok")
except OSError as e:
    print("fsync", e.strerror)
os.close(fd)'
	expect_text b out "fsync No space left on device" || ok=1
	umount "$C/fullvol"
	return $ok
}

# A directory the job has looked up is moved out of the volume behind
# venus's back, by anyone who may write the volume directory, and a symlink
# to where it went put in its place, with a file in it: the directory has
# vanished from the volume, and the job sees it so. Venus must follow the
# path out of the volume for no call: no byte, attribute or name of the file
# shown, and nothing made there. (The job looks the directory up without
# listing it: a listing would be kept, and shown again until venus is asked,
# as for any change behind venus's back.)
t directory_moved_out_behind_a_symlink_is_gone_for_the_job
directory_moved_out_behind_a_symlink_is_gone_for_the_job() {
	new_case
	mkdir -p "$C/seed/d/e"
	printf 'inside\n' >"$C/seed/d/e/in.txt"
	copy_seed || return 1
	make_dirs "$C/out"
	local ok=0
	VOLDIR=$V OUT=$C/out run_coda c 'ls d/e/in.txt &&
		mv "$VOLDIR/d" "$OUT/d" && ln -s "$OUT/d" "$VOLDIR/d" &&
		echo outside the volume >"$OUT/d/e/secret" || exit 9
		ls d/e; stat -c %s d/e/secret; cat d/e/secret; echo made >d/e/made; echo done'
	expect_rc c 0 || ok=1
	expect_text c out "d/e/in.txt
done" || ok=1
	expect_text c err "ls: cannot open directory 'd/e': No such file or directory
stat: cannot statx 'd/e/secret': No such file or directory
cat: d/e/secret: No such file or directory
sh: 4: eval: cannot create d/e/made: Directory nonexistent" || ok=1
	[ ! -e "$C/out/d/e/made" ] || {
		note "venus created a file outside the volume"
		ok=1
	}
	return $ok
}

t coda_answers_where_it_differs_from_a_local_fs
coda_answers_where_it_differs_from_a_local_fs() {
	new_case
	printf 'data\n' >"$C/seed/f"
	copy_seed || return 1
	local ok=0
	run_coda c '"$PY" - <<"EOF"
import errno, os, socket
def t(name, fn, *a):
    try:
        fn(*a); print(name, "ok")
    except OSError as e:
        print(name, errno.errorcode[e.errno])
t("mkfifo", os.mkfifo, "fifo")
t("mknod", os.mknod, "node")
s = socket.socket(socket.AF_UNIX)
t("bind", s.bind, "sock")
t("connect to a file", s.connect, "f")
t("connect to nothing", s.connect, "none")
fd = os.open("f", os.O_RDONLY); os.unlink("f")
print("fstat after unlink: nlink", os.fstat(fd).st_nlink, "size", os.fstat(fd).st_size)
w = os.open("w", os.O_CREAT | os.O_RDWR, 0)
os.write(w, b"12345"); os.ftruncate(w, 2); os.close(w)
print("ftruncate of a mode-0 file opened for writing:", os.stat("w").st_size)
# 4095 bytes relative to /coda: past PATH_MAX as an absolute path, as
# pjdfstest */03.t use them; the kernel limits only the string passed.
base = "d/" * 2000
for i in range(1, 2001):
    os.mkdir("d/" * i)
name = base + "f" * (4095 - len(base))
t("create a 4095-byte relative name", lambda: os.close(os.open(name, os.O_CREAT | os.O_WRONLY, 0o644)))
t("stat it", os.stat, name)
t("unlink it", os.unlink, name)
t("a 4096-byte one", os.stat, name + "f")
EOF'
	expect_rc c 0 || ok=1
	expect_text c out "mkfifo EIO
mknod EIO
bind EIO
connect to a file ECONNREFUSED
connect to nothing ENOENT
fstat after unlink: nlink 0 size 5
ftruncate of a mode-0 file opened for writing: 2
create a 4095-byte relative name ok
stat it ok
unlink it ok
a 4096-byte one ENAMETOOLONG" || ok=1
	return $ok
}

t read_only_gives_EROFS_for_every_write
read_only_gives_EROFS_for_every_write() {
	new_case
	seed_docs "$C/seed"
	copy_seed || return 1
	local ok=0 want
	run_coda c '"$PY" - <<"EOF"
import ctypes, errno, os
def t(name, f, *a, **k):
    try:
        r = f(*a, **k)
        if f is os.open:
            os.close(r)
        print(name, "ok")
    except OSError as e:
        print(name, errno.errorcode[e.errno])
t("open O_WRONLY", os.open, "a.txt", os.O_WRONLY)
t("open O_RDWR", os.open, "a.txt", os.O_RDWR)
t("open O_APPEND", os.open, "a.txt", os.O_WRONLY | os.O_APPEND)
t("open O_TRUNC", os.open, "a.txt", os.O_WRONLY | os.O_TRUNC)
t("open O_RDONLY|O_TRUNC", os.open, "a.txt", os.O_RDONLY | os.O_TRUNC)
t("creat new", os.open, "new.txt", os.O_CREAT | os.O_WRONLY, 0o644)
t("creat existing", os.open, "a.txt", os.O_CREAT | os.O_WRONLY, 0o644)
t("creat excl existing", os.open, "b.txt", os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
t("creat excl new", os.open, "new2.txt", os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
t("mkdir", os.mkdir, "newdir")
t("rmdir", os.rmdir, "dir2")
t("unlink", os.unlink, "b.txt")
t("rename", os.rename, "a.txt", "moved.txt")
t("rename dir", os.rename, "dir1", "dir9")
t("link", os.link, "a.txt", "hard.txt")
t("symlink", os.symlink, "a.txt", "sym")
t("chmod", os.chmod, "a.txt", 0o600)
t("chown", os.chown, "a.txt", os.getuid(), os.getgid())
t("lchown", os.lchown, "dir1/sub/link", os.getuid(), os.getgid())
t("utime", os.utime, "a.txt", (1, 1))
t("utime now", os.utime, "a.txt")
t("truncate", os.truncate, "a.txt", 0)
t("mkfifo", os.mkfifo, "fifo")
t("setxattr", os.setxattr, "a.txt", "user.x", b"1")
libc = ctypes.CDLL(None, use_errno=True)
def access(path, mode):
    if libc.access(path.encode(), mode):
        raise OSError(ctypes.get_errno(), "access")
t("access W_OK", access, "a.txt", os.W_OK)
t("access R_OK", access, "a.txt", os.R_OK)
fd = os.open("a.txt", os.O_RDONLY)
t("fchmod", os.fchmod, fd, 0o600)
t("fchown", os.fchown, fd, os.getuid(), os.getgid())
t("ftruncate", os.ftruncate, fd, 0)
t("futimens", os.utime, fd, (1, 1))
os.close(fd)
EOF
touch new-by-touch; echo x >>a.txt; mkdir -p deep/er; rm -r dir1; mv a.txt b.txt; true' --read-only
	# An exclusive create of a name that exists: EEXIST before EROFS, as
	# the kernel's lookup finds the name first.
	want=$(for n in 'open O_WRONLY' 'open O_RDWR' 'open O_APPEND' 'open O_TRUNC' 'open O_RDONLY|O_TRUNC' \
		'creat new' 'creat existing'; do echo "$n EROFS"; done
	echo 'creat excl existing EEXIST'
	for n in 'creat excl new' mkdir rmdir unlink rename 'rename dir' link symlink chmod chown lchown \
		utime 'utime now' truncate mkfifo setxattr 'access W_OK'; do echo "$n EROFS"; done
	echo 'access R_OK ok'
	for n in fchmod fchown; do echo "$n EROFS"; done
	echo 'ftruncate EINVAL'
	echo 'futimens EROFS')
	expect_rc c 0 || ok=1
	expect_text c out "$want" || ok=1
	sed 's/^sh: [0-9]*: eval: /sh: /' "$T/c.err" | sort >"$T/c.errs"
	expect_text c errs "mkdir: cannot create directory 'deep': Read-only file system
mv: cannot move 'a.txt' to 'b.txt': Read-only file system
rm: cannot remove 'dir1/f': Read-only file system
rm: cannot remove 'dir1/sub/g': Read-only file system
rm: cannot remove 'dir1/sub/link': Read-only file system
sh: cannot create a.txt: Read-only file system
touch: cannot touch 'new-by-touch': Read-only file system" || ok=1
	same_trees all || ok=1
	return $ok
}

# --- session semantics
# As on a kernel mount, every open of a file shares one container: readers
# from before the writer and during it see its bytes; the volume gets them at
# the writer's last close.
t session_readers_see_the_writers_bytes_volume_gets_them_at_close
session_readers_see_the_writers_bytes_volume_gets_them_at_close() {
	new_case
	printf 'old contents\n' >"$C/seed/f"
	copy_seed || return 1
	local ok=0
	# VOLF: the backing file, read by the target itself (a host path)
	VOLF=$V/f run_coda c '"$PY" - <<"EOF"
import os
p = "/coda/f"
r1 = open(p)                         # before the writer
w = open(p, "r+")
w.write("NEW CONTENTS, LONGER\n"); w.flush()
r2 = open(p)                         # during the write session
print("r2 during:", repr(r2.read()))
print("backing during:", repr(open(os.environ["VOLF"]).read()))
print("stat size during:", os.stat(p).st_size)
w.close()
r3 = open(p)                         # after the close
print("r1 after:", repr(r1.read()))
r2.seek(0); print("r2 after:", repr(r2.read()))
print("r3 after:", repr(r3.read()))
print("backing after:", repr(open(os.environ["VOLF"]).read()))
w = open(p, "a"); w.write("appended\n"); w.close()
print("reopen:", repr(open(p).read()))
EOF'
	expect_rc c 0 || ok=1
	expect_text c out "r2 during: 'NEW CONTENTS, LONGER\\n'
backing during: 'old contents\\n'
stat size during: 21
r1 after: 'NEW CONTENTS, LONGER\\n'
r2 after: 'NEW CONTENTS, LONGER\\n'
r3 after: 'NEW CONTENTS, LONGER\\n'
backing after: 'NEW CONTENTS, LONGER\\n'
reopen: 'NEW CONTENTS, LONGER\\nappended\\n'" || ok=1
	if [ "$(cat "$V/f")" != "$(printf 'NEW CONTENTS, LONGER\nappended')" ]; then
		note "backing file after the run: $(od -c "$V/f" | head -5)"
		ok=1
	fi
	return $ok
}

# --- readers' containers kept past their last close (supervisor/coda/keep.h)
# A file read once is read again from the container kept of it: whatever
# changes the file in between (a write, an append, a truncate by fd and by
# path, a rename over it, a mode change) must show in the next read, as on a
# kernel mount. (stat before a read: the read then finds attributes cached
# again, newer than the kept container.)
t file_read_again_after_each_change_shows_the_change
file_read_again_after_each_change_shows_the_change() {
	new_case
	printf 'first\n' >"$C/seed/f"
	copy_seed || return 1
	same_as_native 'cat f; cat f; "$PY" -c "import os; os.truncate(\"f\", 3)"; stat -c %s f; cat f; echo
echo second >f; cat f; printf "third\n" >>f; cat f; truncate -s 3 f; cat f; echo
printf "other\n" >g; mv g f; cat f; cat f
ln f h; cat h; chmod 600 f; cat f; : >f; wc -c <f; echo last >f; cat h'
}

# The same for a directory's listing: each change made in it shows in the
# next listing of it.
t directory_listed_again_after_each_change_shows_it
directory_listed_again_after_each_change_shows_it() {
	new_case
	mkdir "$C/seed/d" && : >"$C/seed/d/a" && : >"$C/seed/d/b"
	copy_seed || return 1
	same_as_native 'ls -a d; ls -a d; touch d/n; ls -a d; rm d/a; ls -a d; mv d/b d/c; ls -a d
mkdir d/sub; ls -a d; ln -s c d/l; ls -a d; rmdir d/sub; ls -a d; mv d/c .; ls -a d; ls -a'
}

# With the embedded venus, a file read three times is opened with venus once
# (and closed once), and so is a directory listed three times.
t unchanged_file_and_directory_are_opened_with_venus_once
unchanged_file_and_directory_are_opened_with_venus_once() {
	new_case
	printf 'kept\n' >"$C/seed/f"
	mkdir "$C/seed/d" && : >"$C/seed/d/a"
	copy_seed || return 1
	local ok=0
	traced_run_gives 'cat f; cat f; cat f; ls d; ls d; ls d' "$(printf 'kept\nkept\nkept\na\na\na')" ||
		ok=1
	expect_upcalls c OPEN_BY_FD 2 || ok=1
	expect_upcalls c CLOSE 2 || ok=1
	return $ok
}

# With the embedded venus, a LOOKUP's reply carries the caller's rights on
# the object: a file read, a directory listed and a program run for the first
# time need no ACCESS upcall. A right the reply does not carry is still asked
# of venus, and still refused: a program with no x bit does not run, as root
# too. The one other ACCESS is the volume root's, which no LOOKUP names.
t first_touch_asks_venus_no_access_but_a_refusal_still_holds
first_touch_asks_venus_no_access_but_a_refusal_still_holds() {
	new_case
	printf 'read\n' >"$C/seed/f"
	mkdir "$C/seed/d" && : >"$C/seed/d/a"
	printf '#!/bin/sh\necho ran\n' >"$C/seed/prog" && chmod 755 "$C/seed/prog"
	printf '#!/bin/sh\necho ran too\n' >"$C/seed/noexec" && chmod 644 "$C/seed/noexec"
	copy_seed || return 1
	local ok=0
	traced_run_gives 'cat f; ls d; ./prog; ./noexec 2>/dev/null; echo "rc=$?"' \
		"$(printf 'read\na\nran\nrc=126')" || ok=1
	expect_upcalls c ACCESS 2 || ok=1
	return $ok
}

# Each kept container holds one of the supervisor's fds, and so does each
# /coda file the command holds open in its fd band. With a limit of 1,024
# fds for coda-exec and the command, what is kept gives way to what the
# command holds open: 600 files read one by one (512 kept), then 505 others
# held open at once, then the first read again.
t files_held_open_at_once_are_served_when_fds_run_short
files_held_open_at_once_are_served_when_fds_run_short() {
	new_case
	local i
	for i in $(seq -w 0 599); do printf 'file %s\n' "$i" >"$C/seed/a$i"; done
	for i in $(seq -w 0 504); do printf 'held %s\n' "$i" >"$C/seed/b$i"; done
	copy_seed || return 1
	(ulimit -n 1024 && same_as_native '"$PY" - <<"EOF"
read = ["a%03d" % i for i in range(600)]
print(sum(len(open(n).read()) for n in read))
held = [open("b%03d" % i) for i in range(505)]
print(sum(len(f.read()) for f in held))
for f in held:
    f.close()
print(sum(len(open(n).read()) for n in read))
EOF')
}

# The supervisor holds an fd for each /coda file a process holds in its fd
# band. Three processes holding 400 each, with a limit of 1,024 fds for
# coda-exec and the command, run it out of fds: the opens it has no fd
# for fail with EMFILE at once (venus's open is closed again), as does a
# new process's call (never left to the kernel, which would resolve a
# /coda path on the host), none waits for a timeout, and once they are
# closed every file reads again.
t opens_past_the_supervisors_fds_fail_with_emfile_at_once
opens_past_the_supervisors_fds_fail_with_emfile_at_once() {
	new_case
	local i ok=0 start=$EPOCHREALTIME
	for i in $(seq -w 0 399); do printf 'file %s\n' "$i" >"$C/seed/f$i"; done
	copy_seed || return 1
	(ulimit -n 1024 && run_coda c 'for k in 1 2 3; do "$PY" - <<"EOF" &
import errno, os, time
held, err = [], "-"
for i in range(400):
    try:
        held.append(open("f%03d" % i))
    except OSError as e:
        err = errno.errorcode[e.errno]
        break
os.write(1, b"held %d %s\n" % (len(held), err.encode()))  # one write: three print at once
while not os.path.exists(os.environ["SCR"] + "/done"):
    time.sleep(0.05)
EOF
done
sleep 3; touch x 2>&1; : >"$SCR/done"; wait; cat f000 f399; touch x && echo made')
	expect_rc c 0 || ok=1
	expect_fast c "$start" 20 || ok=1
	if ! awk '$1 != "held" { next } $3 != "-" && $3 != "EMFILE" { bad = 1 } { n += $2 }
		END { exit bad || n >= 1200 || n < 600 }' "$T/c.out"; then
		note "the three processes should open 600 to 1,199 files, the rest failing with EMFILE:"
		note_file "$T/c.out"
		ok=1
	fi
	# touch fails at its exec or its open: either way with EMFILE
	expect_grep c out "touch: Too many open files" || ok=1
	expect_grep c out "$(printf 'file 000\nfile 399\nmade')" || ok=1
	return $ok
}

# A /coda fd named through /proc, every way the kernel knows its owner by:
# self, thread-self, its pid, its thread id (from a thread), /dev/fd; a
# link to it reads as its path and opens the file. A pid with a leading
# zero names nothing.
t coda_fd_named_through_proc_by_pid_tid_self_and_dev_fd
coda_fd_named_through_proc_by_pid_tid_self_and_dev_fd() {
	new_case
	printf 'through proc\n' >"$C/seed/f"
	copy_seed || return 1
	same_as_native '"$PY" - <<"EOF"
import os, threading
def look():
    fd = os.open("f", os.O_RDONLY)
    pid, tid = os.getpid(), threading.get_native_id()
    print("a thread of its own:", tid != pid)
    for d in ("/proc/self/fd", "/proc/thread-self/fd", "/proc/%d/fd" % pid,
              "/proc/%d/fd" % tid, "/dev/fd", "/proc/0%d/fd" % pid):
        link = "%s/%d" % (d, fd)
        try:
            print(os.readlink(link) == os.path.realpath("f"), open(link).read(), end="")
        except OSError as e:
            print("error", e.errno)
t = threading.Thread(target=look)
t.start()
t.join()
EOF'
}

# --- one container per file: opens while a file is written see its bytes
t shell_log_is_read_while_its_writer_holds_it
shell_log_is_read_while_its_writer_holds_it() {
	new_case
	copy_seed || return 1
	same_as_native 'exec 3>log; echo line1 >&3; cat log; echo line2 >&3; wc -c <log; cat log
exec 4>>log; echo line3 >&4; exec 3>&- 4>&-; cat log'
}

t tempfile_written_and_flushed_is_read_by_a_subprocess
tempfile_written_and_flushed_is_read_by_a_subprocess() {
	new_case
	copy_seed || return 1
	same_as_native '"$PY" - <<"EOF"
import subprocess, tempfile
with tempfile.NamedTemporaryFile("w", dir=".", prefix="tmp.", delete=False) as f:
    f.write("written, flushed, not closed\n"); f.flush()
    print(subprocess.run(["cat", f.name], capture_output=True, text=True).stdout, end="")
    f.write("more\n"); f.flush()
    print(subprocess.run(["wc", "-c", f.name], capture_output=True, text=True).stdout.split()[0])
    name = f.name
import os; os.rename(name, "kept.txt")
EOF'
}

t mmap_write_resize_then_reopen_sees_the_new_size
mmap_write_resize_then_reopen_sees_the_new_size() {
	new_case
	head -c 65536 /dev/zero >"$C/seed/m.bin"
	copy_seed || return 1
	same_as_native '"$PY" - <<"EOF"
import mmap, os
f = open("m.bin", "r+b")
m = mmap.mmap(f.fileno(), 0)
m[0:5] = b"hello"; m[60000:60005] = b"world"
m.resize(4096)
with open("m.bin", "rb") as g:
    data = g.read()
print(len(data), data[:5], os.stat("m.bin").st_size)
m[4091:4096] = b"tail!"; m.flush()
print(open("m.bin", "rb").read()[-5:])
m.close(); f.close()
print(os.stat("m.bin").st_size, open("m.bin", "rb").read()[:5])
EOF'
}

t copy_file_range_splice_sendfile_into_and_out_of_open_files
copy_file_range_splice_sendfile_into_and_out_of_open_files() {
	new_case
	printf 'source bytes for the kernel copies\n' >"$C/seed/src.txt"
	copy_seed || return 1
	same_as_native '"$PY" - <<"EOF"
import os
src = os.open("src.txt", os.O_RDONLY)
out = os.open("dst.txt", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
n = os.copy_file_range(src, out, 12)
print("copy_file_range", n, repr(open("dst.txt").read()))
r, w = os.pipe()
os.write(w, b" spliced")
print("splice", os.splice(r, out, 8), repr(open("dst.txt").read()))
print("sendfile", os.sendfile(out, src, 12, 6), repr(open("dst.txt").read()))
host = os.open(os.environ["SCR"] + "/host.txt", os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
rd = os.open("dst.txt", os.O_RDONLY)
print("out to host", os.sendfile(host, rd, 0, 100), os.copy_file_range(rd, host, 100, 0, 100))
print(repr(os.pread(host, 100, 0)))
os.close(out); os.close(rd); os.close(src)
print(repr(open("dst.txt").read()))
EOF'
}

t two_processes_append_with_o_append_to_one_file
two_processes_append_with_o_append_to_one_file() {
	new_case
	copy_seed || return 1
	same_as_native '"$PY" - <<"EOF"
import os
a = os.open("shared.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
r, w = os.pipe()
r2, w2 = os.pipe()
pid = os.fork()
if pid == 0:
    b = os.open("shared.log", os.O_WRONLY | os.O_APPEND)
    for i in range(50):
        os.read(r, 1)
        os.write(b, b"child %d\n" % i)
        os.write(w2, b"x")
    os._exit(0)
for i in range(50):
    os.write(a, b"parent %d\n" % i)
    os.write(w, b"x"); os.read(r2, 1)
os.waitpid(pid, 0)
os.close(a)
data = open("shared.log").read()
print(len(data), data.count("parent"), data.count("child"), data.splitlines()[:4])
EOF'
}

t tail_f_follows_a_file_being_written
tail_f_follows_a_file_being_written() {
	new_case
	copy_seed || return 1
	same_as_native ': >followed; tail ---disable-inotify -s 0.05 -f followed >"$SCR/tail.out" & t=$!
sleep 0.5; exec 3>>followed
for i in 1 2 3; do echo "held $i" >&3; sleep 0.3; done
exec 3>&-
for i in 4 5; do echo "appended $i" >>followed; sleep 0.3; done
sleep 0.5; kill $t; wait $t 2>/dev/null; cat "$SCR/tail.out"'
}

# fifo helpers for a handshake between the host side of the test and a
# target under coda-exec: the host holds both fifos open read-write, so no
# open blocks; every read has a timeout.
fifo_open() {
	mkfifo "$C/to-host" "$C/to-target" "$C/to-child"
	exec {HFD}<>"$C/to-host" {TFD}<>"$C/to-target" {CFD}<>"$C/to-child"
}
fifo_close() { exec {HFD}<&- {TFD}<&- {CFD}<&-; }
host_wait() { # WHAT: the next line from the target, which must be WHAT
	local line
	if ! read -r -t 30 -u "$HFD" line; then
		note "no '$1' from the target within 30 s"
		return 1
	fi
	[ "$line" = "$1" ] && return 0
	note "the target said '$line', expected '$1'"
	return 1
}
backing_is() { # FILE WANT WHEN
	local got
	got=$(cat "$1" 2>&1)
	[ "$got" = "$2" ] && return 0
	note "$3: backing $(basename "$1") holds '$(printf '%s' "$got" | head -c 200)', expected '$2'"
	return 1
}

t session_write_open_through_fork_stored_when_last_holder_exits
session_write_open_through_fork_stored_when_last_holder_exits() {
	new_case
	printf 'OLD-OLD-OLD\n' >"$C/seed/f"
	printf 'MAPPED-OLD\n' >"$C/seed/m"
	copy_seed || return 1
	fifo_open
	local ok=0 pid
	TO_HOST=$C/to-host TO_TARGET=$C/to-target TO_CHILD=$C/to-child cx c --volume "$V" --cache "$K" -- "$PY" -c '
import mmap, os, sys
th = open(os.environ["TO_HOST"], "w", buffering=1)
tt = open(os.environ["TO_TARGET"])
def say(s): th.write(s + "\n")
def wait(s):
    l = tt.readline().strip()
    if l != s: sys.exit("target: got %r, expected %r" % (l, s))
fd = os.open("/coda/f", os.O_WRONLY)
os.write(fd, b"P")
pid = os.fork()
if pid == 0:
    tc = open(os.environ["TO_CHILD"])
    if tc.readline().strip() != "child-write": os._exit(3)
    os.write(fd, b"C")
    os._exit(0)
os.close(fd)
os.stat("/coda/f")
say("parent-closed")
wait("checked")
os.waitpid(pid, 0)
os.stat("/coda/f")
say("child-exited")
wait("checked")
# a shared mapping keeps the write open after the fd is closed
fd = os.open("/coda/m", os.O_RDWR)
m = mmap.mmap(fd, 0)
os.close(fd)
m[0:6] = b"MAPPED"
m[7:10] = b"NEW"
os.stat("/coda/m")
say("fd-closed")
wait("checked")
m.close()
os.stat("/coda/m")
say("unmapped")
wait("checked")
print(open("/coda/f").read(), open("/coda/m").read(), sep="", end="")
' &
	pid=$!
	{
		host_wait parent-closed && backing_is "$V/f" OLD-OLD-OLD "parent closed, child holds the fd" || ok=1
		echo checked >&"$TFD"
		echo child-write >&"$CFD"
		host_wait child-exited && backing_is "$V/f" PCD-OLD-OLD "child exited" || ok=1
		echo checked >&"$TFD"
		host_wait fd-closed && backing_is "$V/m" MAPPED-OLD "fd closed, still mapped" || ok=1
		echo checked >&"$TFD"
		host_wait unmapped && backing_is "$V/m" MAPPED-NEW "unmapped" || ok=1
		echo checked >&"$TFD"
	}
	wait "$pid"
	fifo_close
	expect_rc c 0 || ok=1
	expect_text c out 'PCD-OLD-OLD
MAPPED-NEW' || ok=1
	return $ok
}

# --- crashes
# The target is killed with SIGKILL while it writes a large file (blocked
# after 20 MiB, so the point is deterministic). While it writes, the backing
# files stay old. Its death releases its open files, and a kernel Coda mount
# stores on that last release too: afterwards each file is either the old one
# or exactly the 20 MiB written (a whole store of the session), never a mix.
t crash_target_killed_mid_write_stores_whole_old_or_written
crash_target_killed_mid_write_stores_whole_old_or_written() {
	new_case
	head -c 1048576 /dev/urandom >"$C/seed/old.bin"
	copy_seed || return 1
	fifo_open
	local ok=0 pid tpid line old written
	old=$(md5sum <"$V/old.bin")
	TO_HOST=$C/to-host TO_TARGET=$C/to-target cx c --volume "$V" --cache "$K" -- "$PY" -c '
import os
th = open(os.environ["TO_HOST"], "w", buffering=1)
tt = open(os.environ["TO_TARGET"])
chunk = bytes(range(256)) * 4096
a = open("/coda/old.bin", "wb")
b = open("/coda/new.bin", "wb")
for i in range(200):
    a.write(chunk); b.write(chunk)
    if i == 19:
        a.flush(); b.flush()
        th.write("%d\n" % os.getpid())
        tt.readline()          # killed here
' &
	pid=$!
	if read -r -t 30 -u "$HFD" tpid; then
		[ "$(md5sum <"$V/old.bin")" = "$old" ] || {
			note "while writing: old.bin is no longer the old file ($(stat -c %s "$V/old.bin") bytes)"
			ok=1
		}
		if [ -s "$V/new.bin" ]; then
			note "while writing: new.bin already holds $(stat -c %s "$V/new.bin") bytes"
			ok=1
		fi
		kill -KILL "$tpid"
	else
		note "the target never reported its progress"
		ok=1
	fi
	wait "$pid"
	fifo_close
	expect_rc c 137 || ok=1
	written=$("$PY" -c 'import hashlib; print(hashlib.md5(bytes(range(256)) * 4096 * 20).hexdigest() + "  -")')
	case "$(md5sum <"$V/old.bin")" in
	"$old" | "$written") ;;
	*)
		note "after the kill: old.bin is neither the old file nor the 20 MiB written ($(stat -c %s "$V/old.bin") bytes)"
		ok=1
		;;
	esac
	if [ -e "$V/new.bin" ] && [ "$(md5sum <"$V/new.bin")" != "$written" ] && [ -s "$V/new.bin" ]; then
		note "after the kill: new.bin holds $(stat -c %s "$V/new.bin") bytes, not the 20 MiB written"
		ok=1
	fi
	no_store_temps "$V" || ok=1
	return $ok
}

# Venus is killed with SIGKILL while it stores a 300 MiB file (the target
# waits until the store's temp file in the volume has grown past 50 MiB; it
# holds the file open for reading, so that the store copies the container
# rather than making it the backing file, which copies nothing):
# the backing file must be the whole old one or the whole new one, and the
# next run on the same cache must start cleanly, list and read the file.
# The closed file is logged: a venus killed during its store leaves the old
# or the new file whole, and the next venus on the cache stores it.
t crash_venus_killed_mid_store_next_run_stores_the_closed_file
crash_venus_killed_mid_store_next_run_stores_the_closed_file() {
	new_case
	head -c 1048576 /dev/urandom >"$C/seed/big.bin"
	printf 'other\n' >"$C/seed/other.txt"
	copy_seed || return 1
	local ok=0 old new got
	old=$(md5sum <"$V/big.bin" | cut -d' ' -f1)
	new=$("$PY" -c '
import hashlib
h = hashlib.md5(); c = bytes(range(255, -1, -1)) * 4096
for i in range(300): h.update(c)
print(h.hexdigest())')
	VOLDIR=$V cx c --volume "$V" --cache "$K" -- "$PY" -c '
import os, signal, sys, time
chunk = bytes(range(255, -1, -1)) * 4096
with open("/coda/big.bin", "wb") as f:
    for i in range(300):
        f.write(chunk)
    reader = open("/coda/big.bin", "rb")
# the store runs now: find its temp file beside big.bin
vol, seen = os.environ["VOLDIR"], "none"
for i in range(2000):
    tmp = [n for n in os.listdir(vol) if n not in ("big.bin", "other.txt")]
    if tmp and os.stat(os.path.join(vol, tmp[0])).st_size > 50 << 20:
        seen = "temp file past 50 MiB"
        break
    time.sleep(0.005)
def ppid(p):
    try:
        return open("/proc/%s/stat" % p).read().rsplit(")", 1)[1].split()[1]
    except OSError:
        return None
kids = [int(p) for p in os.listdir("/proc") if p.isdigit() and p != str(os.getpid())
        and ppid(p) == str(os.getppid())]
if len(kids) != 1:
    sys.exit("venus not found: %r" % kids)
os.kill(kids[0], signal.SIGKILL)
print("killed venus:", seen)
'
	expect_rc c 0 || ok=1
	expect_text c out 'killed venus: temp file past 50 MiB' || ok=1
	got=$(md5sum <"$V/big.bin" | cut -d' ' -f1)
	if [ "$got" != "$old" ] && [ "$got" != "$new" ]; then
		note "big.bin is neither the old nor the new file: $(stat -c %s "$V/big.bin") bytes, md5 $got"
		ok=1
	fi
	# the next run on the same cache
	cx d --volume "$V" --cache "$K" -- sh -c 'ls -A /coda && md5sum </coda/big.bin && cat /coda/other.txt'
	expect_rc d 0 || ok=1
	expect_text d out "big.bin
other.txt
$new  -
other" || ok=1
	expect_text d err '' || ok=1
	got=$(md5sum <"$V/big.bin" | cut -d' ' -f1)
	[ "$got" = "$new" ] || { note "the volume's big.bin after the next run: md5 $got"; ok=1; }
	no_store_temps "$V" || ok=1
	return $ok
}

# --- big files: a store takes as long as it takes, and holes stay holes
# A digest of a file's size and data segments (SEEK_DATA), so that an 8 GiB
# sparse file is checked without reading its holes.
DATA_MD5='
import hashlib, os, sys
def data_md5(path):
    fd, h = os.open(path, os.O_RDONLY), hashlib.md5()
    size, off = os.fstat(fd).st_size, 0
    h.update(b"%d" % size)
    while off < size:
        try:
            off = os.lseek(fd, off, os.SEEK_DATA)
        except OSError:
            break
        end = os.lseek(fd, off, os.SEEK_HOLE)
        h.update(b"@%d" % off)
        while off < end:
            chunk = os.pread(fd, min(end - off, 1 << 22), off)
            h.update(chunk); off += len(chunk)
    os.close(fd)
    return h.hexdigest()
'

# Heavy tests (gigabytes, venus killed again and again) run in the plain
# suite only: its repeats under the container profile and against the hosted
# test venus (CODA_E2E_HEAVY=0) run no code of theirs it does not.
HEAVY=${CODA_E2E_HEAVY:-1}
[ "$HEAVY" = 0 ] || t big_sparse_and_dense_files_are_stored_whole_under_a_short_timeout
big_sparse_and_dense_files_are_stored_whole_under_a_short_timeout() {
	new_case
	printf 'x\n' >"$C/seed/x"
	copy_seed || return 1
	local ok=0 want
	cx a --timeout 5 --volume "$V" --cache "$K" -- "$PY" -c "$DATA_MD5"'
block = bytes(range(256)) * 4096
with open("/coda/sparse", "wb") as f:
    for i in range(4):
        f.seek(i * (2 << 30) + 12345); f.write(block * 2)
    f.truncate(8 << 30)
h = hashlib.md5(b"%d@0" % (2 << 30))
with open("/coda/dense", "wb") as f:
    for i in range(2048):
        b = block[i % 256:] + block[:i % 256]
        f.write(b); h.update(b)
print(data_md5("/coda/sparse"), h.hexdigest())'
	expect_rc a 0 || ok=1
	expect_text a err '' || ok=1
	want=$(cat "$T/a.out")
	cx b --timeout 5 --volume "$V" --cache "$K" -- "$PY" -c "$DATA_MD5"'
print(data_md5("/coda/sparse"), data_md5("/coda/dense"))'
	expect_rc b 0 || ok=1
	expect_text b out "$want" || ok=1
	# (the next run read the dense file from a copy of the volume's)
	[ "$("$PY" -c "$DATA_MD5"'
print(data_md5(sys.argv[1]))' "$V/sparse")" = "${want% *}" ] || {
		note "the volume's sparse file differs from what was written"
		ok=1
	}
	if [ "$(stat -c %b "$V/sparse")" -gt 65536 ]; then
		note "the volume's sparse file lost its holes: $(stat -c '%s bytes, %b blocks' "$V/sparse")"
		ok=1
	fi
	rm -f "$V/sparse" "$V/dense"
	rm -rf "$K"
	return $ok
}

# --- nothing closed is lost when venus dies
# venus_pid_of CXPID: the venus that coda-exec CXPID started (its child that
# runs the embedded venus program, or the hosted test venus).
venus_pid_of() {
	local p
	for p in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
		case $(cat /proc/"$p"/comm 2>/dev/null) in
		coda-venus | testvenus) echo "$p" && return 0 ;;
		esac
	done
	return 1
}

# One round: a writer of small files under coda-exec, venus killed at a
# random moment; the writer notes each file whose close has returned.
kill_venus_during_writes() {
	local round=$1 cxpid vpid
	"$CODA_EXEC" --volume "$V" --cache "$K" -- "$PY" -c '
import os, sys
done = open(sys.argv[1], "a", buffering=1)
for i in range(100000):
    name = "r%s-f%05d" % (sys.argv[2], i)
    try:
        with open("/coda/" + name, "w") as f:
            f.write((name + "\n") * (1 + i % 300))
    except OSError:
        break
    done.write(name + "\n")
' "$C/closed" "$round" >/dev/null 2>"$T/kill-$round.err" &
	cxpid=$!
	sleep "0.$((RANDOM % 9 + 2))"
	vpid=$(venus_pid_of "$cxpid") || { note "round $round: venus not found"; return 1; }
	kill -KILL "$vpid"
	wait "$cxpid"
	return 0
}

[ "$HEAVY" = 0 ] || t venus_killed_during_a_write_load_loses_no_closed_file
venus_killed_during_a_write_load_loses_no_closed_file() {
	new_case
	copy_seed || return 1
	local ok=0 r
	: >"$C/closed"
	for r in $(seq 1 "${CODA_E2E_KILL_ROUNDS:-3}"); do
		kill_venus_during_writes "$r" || ok=1
	done
	# the next run stores what the killed venus left logged
	cx c --volume "$V" --cache "$K" -- true
	expect_rc c 0 || ok=1
	expect_text c err '' || ok=1
	"$PY" - "$V" "$C/closed" >"$T/whole.out" 2>&1 <<'EOF' || { note_file "$T/whole.out"; ok=1; }
import os, sys
vol, closed = sys.argv[1], open(sys.argv[2]).read().split()
def whole(name):
    want = (name + "\n") * (1 + int(name[-5:]) % 300)
    try:
        return open(os.path.join(vol, name)).read() == want
    except OSError:
        return False
bad = ["closed before the kill, not whole on the volume: " + n for n in closed if not whole(n)]
bad += ["half-written on the volume: " + n for n in sorted(os.listdir(vol))
        if n.startswith("r") and os.path.getsize(os.path.join(vol, n)) and not whole(n)]
if not closed:
    bad.append("no file was closed before a kill")
print("\n".join(bad[:20]) or "%d closed files, all whole" % len(closed))
sys.exit(1 if bad else 0)
EOF
	compgen -G "$K/cml.*" >/dev/null && { note "logged containers left: $(ls "$K")"; ok=1; }
	return $ok
}

# ================================================================ main
# the shared inputs: a large tree (2,000+ files) and its tarball, a small one
"$PY" "$LIB/gentree.py" "$SRC/tree" 40 54 >"$T/gentree.log" 2>&1 &&
	"$PY" "$LIB/gentree.py" "$SRC/small" 6 30 >>"$T/gentree.log" 2>&1 &&
	tar -C "$SRC" --sort=name -cf "$WORK/tree.tar" tree &&
	tar -C "$SRC" --sort=name -cf "$WORK/small.tar" small || {
	setup_failed "generating the source trees failed:" "$T/gentree.log"
}
TARBALL=$WORK/tree.tar
SMALLTAR=$WORK/small.tar
export SRC TARBALL SMALLTAR

warn_if_mount_exists

run_tests

# ------------------------------------------- the same again, unprivileged
if nobody_rerun_wanted; then
	nobody_prepare "$HERE/write.sh" "$HERE/edgecalls.c" "$HERE/ino_times.py"
	nobody_copy_coda_exec
	cp -- "$EDGECALLS" "$N/bin/edgecalls"
	# for the EACCES scenario: volumes owned by nobody, each holding a
	# root-owned 0755 directory with a root-owned file
	for d in plain vol; do
		mkdir -p "$N/locked/$d/locked"
		printf 'root file\n' >"$N/locked/$d/locked/ro.txt"
		chmod 755 "$N/locked/$d" "$N/locked/$d/locked"
		chown nobody:nogroup "$N/locked/$d"
	done
	rerun_as_nobody CODA_E2E_LOCKED="$N/locked" CODA_E2E_HEAVY="$HEAVY" \
		CODA_E2E_KILL_ROUNDS="${CODA_E2E_KILL_ROUNDS:-3}" -- write.sh "$N/bin/coda-exec" "$N/bin/edgecalls"
fi

report_totals
