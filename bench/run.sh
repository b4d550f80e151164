#!/bin/bash
# bench/run.sh [CODA_EXEC] -- coda-exec against what users would pick instead.
#
# Builds its data once in a temp dir, checks that each workload gives under
# coda-exec what it gives natively, then measures every workload on the same
# data, in one run: natively, under coda-exec (a first run on a fresh cache,
# and the second pass inside one run), under `proot -b VOL:/coda`, on a
# bindfs (FUSE) mount of the volume, and under bench/floor (coda-exec's
# filter, every call answered CONTINUE). Then find -ls, git status and
# python imports through one venus for many jobs (--serve): a first job
# through a fresh server and a second through a warm one, against a run's
# first and second pass. Then the per-call timings of
# bench/micro, the upcalls each workload made (coda-exec --stats) beside what
# a kernel Coda mount makes, and find -ls at three sizes. Prints the tables
# (bench/report.py) and writes them to bench/RESULTS.md. See bench/README.md.
#
# Environment: BENCH_QUICK=1 (small counts, a 2-minute smoke run),
# BENCH_FILES, BENCH_TREE, BENCH_MODULES, BENCH_SOURCES, BENCH_FIO_MB,
# BENCH_RUNS, BENCH_N, BENCH_BATCHES, BENCH_SCALE, BENCH_SCALE_RUNS,
# BENCH_OUT (default bench/RESULTS.md), BENCH_DIR (where the temp dir goes),
# BENCH_KEEP=1 (keep it), BENCH_EXTRA=1 (also the rows the README cites for
# single design choices: recvmsg, CODA_OPEN_BY_FD against BY_PATH),
# BENCH_ONLY=serve (only one venus for many jobs, its table written to
# BENCH_OUT or, by default, only printed).
#
# A command here is a string of plain words, split on purpose (as hyperfine
# -N splits it), and run from the $(...) that makes it.
# shellcheck disable=SC2046,SC2091
set -euo pipefail

ROOT=$(cd -- "$(dirname -- "$0")/.." && pwd -P)
CX=${1:-$ROOT/build/supervisor/coda-exec}
if [ ! -x "$CX" ]; then
	echo "bench: $CX: not built (run: meson setup build && ninja -C build)" >&2
	exit 2
fi
CX=$(realpath -- "$CX")
# floor and micro from CODA_EXEC's build tree, else from this tree's.
BIN=$(realpath -- "$(dirname -- "$CX")/../bench")
[ -x "$BIN/floor" ] || BIN=$ROOT/build/bench
FLOOR=$BIN/floor
MICRO=$BIN/micro
for tool in "$FLOOR" "$MICRO"; do
	[ -x "$tool" ] || {
		echo "bench: $tool: not built (ninja -C build)" >&2
		exit 2
	}
done
for tool in hyperfine python3 cc make git tar fio find xargs; do
	command -v "$tool" >/dev/null || {
		echo "bench: $tool not found (./quickstart.sh installs it)" >&2
		exit 2
	}
done
# The system's python, not a wrapper script in front of it (pyenv).
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)

if [ -n "${BENCH_QUICK:-}" ]; then
	q_files=1000 q_tree=500 q_modules=50 q_fio=32 q_runs=2 q_n=200 q_batches=3
	q_scale="200 1000 5000" q_scale_runs=1
else
	q_files=10000 q_tree=5000 q_modules=500 q_fio=256 q_runs=5 q_n=2000 q_batches=5
	q_scale="1000 10000 100000" q_scale_runs=2
fi
FILES=${BENCH_FILES:-$q_files}
TREE=${BENCH_TREE:-$q_tree}
MODULES=${BENCH_MODULES:-$q_modules}
SOURCES=${BENCH_SOURCES:-10}
FIO_MB=${BENCH_FIO_MB:-$q_fio}
RUNS=${BENCH_RUNS:-$q_runs}
N=${BENCH_N:-$q_n}
BATCHES=${BENCH_BATCHES:-$q_batches}
SCALE=${BENCH_SCALE:-$q_scale}
SCALE_RUNS=${BENCH_SCALE_RUNS:-$q_scale_runs}
ONLY=${BENCH_ONLY:-}
case $ONLY in
'' | serve) ;;
*)
	echo "bench: BENCH_ONLY=$ONLY: only 'serve' is known" >&2
	exit 2
	;;
esac
export LC_ALL=C

WORK=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/coda-bench.XXXXXX")
WORK=$(realpath -- "$WORK")
OUT=${BENCH_OUT:-$ROOT/bench/RESULTS.md}
[ -n "$ONLY" ] && OUT=${BENCH_OUT:-$WORK/RESULTS.md}
VOL=$WORK/vol
CACHE=$WORK/cache
# What a run leaves (a cache, an unpacked tree) is moved here, not deleted,
# until the end: ext4 skips inodes deleted in the last minutes when it
# allocates new ones (recently_deleted(), 9% of venus's cycles in a first
# `tar c` made just after the previous run's cache was removed), so a
# deletion before each timed run made the disk, not the workload, decide
# the times of creating runs.
TRASH=$WORK/trash
ASIDE=$WORK/aside # ASIDE DIR TRASHDIR: DIR, if any, into a new dir of TRASHDIR
MNT=$WORK/mnt
RES=$WORK/res
BINDFS=0
SOCK=$WORK/serve.sock
SERVER=$WORK/server
cleanup() {
	if [ -x "$SERVER" ]; then
		"$SERVER" stop || true
	fi
	if [ "$BINDFS" = 1 ]; then
		fusermount -u "$MNT" || umount "$MNT" || true
	fi
	if [ -n "${BENCH_KEEP:-}" ]; then
		echo "kept $WORK"
	else
		rm -rf -- "$WORK"
	fi
}
trap cleanup EXIT
# A signal ends the script through exit, so that cleanup runs.
trap 'exit 130' INT
trap 'exit 143' TERM
chmod 755 "$WORK"
printf '#!/bin/sh\n[ ! -e "$1" ] || mv -- "$1" "$(mktemp -d "$2/x.XXXXXX")"\n' >"$ASIDE"
chmod 755 "$ASIDE"
mkdir -p "$VOL/.trash" "$CACHE" "$TRASH" "$MNT" "$RES" "$WORK/out" "$WORK/src" "$WORK/check"
START=$(date +%s)

# ---- data ----
echo "bench: preparing the data in $WORK"
"$PY" - "$WORK" "$FILES" "$TREE" "$MODULES" "$SOURCES" "$N" "$BATCHES" $SCALE <<'EOF'
import os, sys
work, files, tree, modules, sources, n, batches = sys.argv[1], *map(int, sys.argv[2:8])
vol = os.path.join(work, "vol")

def put(path, text=""):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)

def spread(top, count, per_dir=100):  # count files, per_dir a directory
    for i in range(count):
        put(os.path.join(top, "d%04d" % (i // per_dir), "f%06d" % i), "x" * (i % 64))

spread(os.path.join(vol, "many"), files)
for i in range(files):
    put(os.path.join(vol, "flat", "f%06d" % i), "x" * (i % 64))
for i in range(tree):  # tar and git: 100 files a directory in two levels
    put(os.path.join(work, "tree", "d%02d" % (i // 100), "s%d" % (i % 5), "f%04d.txt" % i),
        "line %d\n" % i * (1 + i % 40))
for count in map(int, sys.argv[8:]):
    spread(os.path.join(vol, "scale", str(count)), count)
# python3 importing `modules` modules from packages of 50.
pkgs = (modules + 49) // 50
imports = []
for p in range(pkgs):
    put(os.path.join(vol, "py", "pkgb", "p%02d" % p, "__init__.py"))
    for m in range(min(50, modules - 50 * p)):
        put(os.path.join(vol, "py", "pkgb", "p%02d" % p, "m%03d.py" % m),
            "X = %d\n\ndef f(y):\n    return X * y + %d\n" % (50 * p + m, m))
        imports.append("pkgb.p%02d.m%03d" % (p, m))
put(os.path.join(vol, "py", "pkgb", "__init__.py"))
put(os.path.join(vol, "py", "main.py"),
    "".join("import %s\n" % i for i in imports) + "total = 0\n" +
    "".join("total += %s.f(2)\n" % i for i in imports) + "print(total)\n")
# A C project for make -j2: `sources` files, a header, a static library.
for root in (os.path.join(vol, "proj"), os.path.join(work, "proj")):
    objs = []
    put(os.path.join(root, "lib", "f.h"),
        "".join("int f%d(int x);\n" % i for i in range(sources)))
    for i in range(sources):
        put(os.path.join(root, "lib", "f%d.c" % i),
            '#include "f.h"\nint f%d(int x)\n{\n\tint s = 0;\n\tfor (int i = 0; i < x; i++)\n'
            "\t\ts += i * %d;\n\treturn s;\n}\n" % (i, i))
        objs.append("lib/f%d.o" % i)
    put(os.path.join(root, "main.c"), '#include <stdio.h>\n#include "lib/f.h"\n'
        "int main(void)\n{\n\tprintf(\"%%d\\n\", %s);\n\treturn 0;\n}\n"
        % " + ".join("f%d(9)" % i for i in range(sources)))
    put(os.path.join(root, "Makefile"),
        "OBJ = %s\nprog: main.o libf.a\n\t$(CC) -o $@ main.o libf.a\n"
        "libf.a: $(OBJ)\n\t$(AR) rcs $@ $(OBJ)\n%%.o: %%.c lib/f.h\n\t$(CC) -O2 -c -o $@ $<\n"
        "clean:\n\trm -f prog main.o libf.a $(OBJ)\n" % " ".join(objs))
for i in range(n * batches):
    put(os.path.join(vol, "micro", "cold", "f%d" % i))
for i in range(n):
    put(os.path.join(work, "hostm", "f%d" % i))
os.makedirs(os.path.join(vol, "micro", "w"))
os.makedirs(os.path.join(vol, "untar"))
EOF
cp -a "$WORK/tree" "$VOL/tree"
cp -a "$WORK/tree" "$VOL/repo"
tar cf "$WORK/tree.tar" -C "$WORK/tree" .
git -C "$VOL/repo" init -q
git -C "$VOL/repo" add -A
git -C "$VOL/repo" -c user.name=bench -c user.email=bench@localhost commit -qm data
"$PY" -m compileall -q "$VOL/py"
fio --name=w --filename="$VOL/fio.dat" --rw=write --bs=4k --size="${FIO_MB}M" \
	--verify=crc32c --do_verify=0 --verify_state_save=0 --output=/dev/null
cat >"$WORK/src/hello.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned long hash(const char *s)
{
	unsigned long h = 5381;
	while (*s)
		h = h * 33 + (unsigned char)*s++;
	return h;
}

int main(int argc, char **argv)
{
	for (int i = 0; i < argc; i++)
		printf("%s %lu %zu\n", argv[i], hash(argv[i]), strlen(argv[i]));
	return EXIT_SUCCESS;
}
EOF
# stat's arguments, one list per root it is reached by.
(cd "$VOL" && find many -type f) >"$WORK/stat.list"
for r in "$VOL" /coda "$MNT"; do
	sed "s#^#$r/#" "$WORK/stat.list" >"$WORK/stat.$(echo "$r" | md5sum | cut -c1-8)"
done
statlist() { echo "$WORK/stat.$(echo "$1" | md5sum | cut -c1-8)"; }

# ---- the workloads: a command with @R@ for the volume's root, and the
# shell command (with @R@) that puts the volume back before each run ----
WORKLOADS=(find_ls stat ls_l git_status tar_c tar_x make py_import host_cc)
declare -A CMD RESET
CMD[find_ls]="find @R@/many -ls"
CMD[stat]="xargs -a @L@ stat -c %s.%a.%Y"
CMD[ls_l]="ls -l @R@/flat"
CMD[git_status]="git --no-optional-locks -C @R@/repo status"
CMD[tar_c]="tar cf $WORK/out/tree.tar -C @R@/tree ."
CMD[tar_x]="tar xf $WORK/tree.tar -C @R@/untar"
RESET[tar_x]="$ASIDE @R@/untar @R@/.trash && mkdir @R@/untar"
CMD[make]="make -s -j2 -C @R@/proj"
RESET[make]="make -s -C @R@/proj clean"
CMD[py_import]="$PY -B @R@/py/main.py"
CMD[host_cc]="cc -O2 -o $WORK/out/hello $WORK/src/hello.c"
FIO_SEQ="fio --name=seq --filename=@R@/fio.dat --rw=read --bs=4k --size=${FIO_MB}M --invalidate=0 --readonly --output-format=json"
FIO_RAND="${FIO_SEQ/--name=seq --filename=@R@\/fio.dat --rw=read/--name=rand --filename=@R@/fio.dat --rw=randread}"

at() { # TEMPLATE ROOT: the template for the volume at ROOT
	local t=${1//@L@/$(statlist "$2")}
	echo "${t//@R@/$2}"
}
CXV="$CX --volume $VOL --cache $CACHE --"
CXS="$CX --stage --volume $VOL --cache $CACHE --"
WIPE="$ASIDE $CACHE $TRASH && mkdir $CACHE"
# The data path's cache is one big container: deleted, not kept, so that
# its dirty pages (256 MiB a run) do not go to the disk under later runs.
WIPE_DATA="rm -rf $CACHE && mkdir $CACHE"
# One venus for many jobs: `$SERVER fresh` stops the server at $SOCK if one
# runs, and starts one on a wiped cache of its own; `$SERVER stop` stops it
# and removes its socket. A script, as hyperfine's --prepare runs it.
ATTACH="$CX --attach $SOCK --"
SERVE_WORKLOADS=(find_ls git_status py_import)
cat >"$SERVER" <<EOF
#!/bin/sh
CX='$CX' SOCK='$SOCK' VOL='$VOL' CACHE='$WORK/serve-cache' PIDF='$WORK/serve.pid' LOG='$RES/serve.log'
TRASH='$TRASH' ASIDE='$ASIDE'
EOF
cat >>"$SERVER" <<'EOF'
gone() { # PID: gone, or left a zombie (its parent, a shell, has exited), within 2 s
	for _ in $(seq 40); do
		case $(ps -o stat= -p "$1") in '' | Z*) return 0 ;; esac
		sleep 0.05
	done
	return 1
}
stop() { # --stop, else TERM and then KILL to the pid it was started with
	[ -S "$SOCK" ] && timeout -k 1 20 "$CX" --stop "$SOCK" 2>>"$LOG"
	if [ -s "$PIDF" ]; then
		pid=$(cat "$PIDF")
		gone "$pid" || { kill -TERM "$pid" && gone "$pid"; } || kill -KILL "$pid"
		rm -f "$PIDF"
	fi
	rm -f "$SOCK"
}
start() {
	"$ASIDE" "$CACHE" "$TRASH" && mkdir "$CACHE" || return 1
	"$CX" --serve "$SOCK" --volume "$VOL" --cache "$CACHE" </dev/null >>"$LOG" 2>&1 &
	echo $! >"$PIDF"
	for _ in $(seq 200); do
		[ -S "$SOCK" ] && return 0
		kill -0 $! 2>/dev/null || break
		sleep 0.05
	done
	echo "bench: the server did not start (see $LOG)" >&2
	return 1
}
case $1 in
fresh) stop && start ;;
stop) stop ;;
*) exit 2 ;;
esac
EOF
chmod 755 "$SERVER"
reset_cmd() { # WORKLOAD ROOT
	local r=${RESET[$1]:-}
	[ -n "$r" ] && at "$r" "$2" || echo true
}

# ---- correctness first: a workload that is wrong under coda-exec is not
# timed there (a fast wrong answer is no result) ----
declare -A WRONG
wrong() {
	echo "bench: $1 under coda-exec: $2" >&2
	WRONG[$1]=1
}
coda() { sh -c "$WIPE" && $CXV "$@"; }
first_job() { "$SERVER" fresh && $ATTACH "$@"; }
# What a workload's check runs, where it is not the workload itself.
declare -A CHECK
CHECK[git_status]="git -C @R@/repo --no-optional-locks status --porcelain"
same_output() { # WORKLOAD [RUNNER NAME WHAT]: its output natively and under
	# RUNNER (coda, a run with its own venus), /coda read as VOL; a
	# difference makes NAME (WORKLOAD) wrong.
	local t=${CHECK[$1]:-${CMD[$1]}} native out
	native=$($(at "$t" "$VOL") 2>&1) || true
	out=$(${2:-coda} $(at "$t" /coda) 2>&1 | sed "s#/coda#$VOL#g") || true
	[ "$native" = "$out" ] || wrong "${3:-$1}" "${4:-output} differs from the native run's"
}
echo "bench: checking coda-exec's answers"
same_output find_ls
same_output git_status
[ -n "$ONLY" ] && same_output py_import
[ -z "$ONLY" ] && same_output stat && same_output ls_l
if [[ $("$CX" --help 2>&1) != *--serve* ]]; then
	echo "bench: this coda-exec has no --serve: no rows for one venus for many jobs" >&2
	touch "$RES/serve.none"
	SERVE_WORKLOADS=()
fi
for w in "${SERVE_WORKLOADS[@]}"; do
	same_output "$w" first_job "serve_$w" "a first job's output through a server"
	same_output "$w" "$ATTACH" "serve_$w" "a second job's output through a warm server"
done
"$SERVER" stop
checks() { # the rest of the workloads'
coda $(at "${CMD[tar_c]}" /coda) && mkdir "$WORK/check/tar" &&
	tar xf "$WORK/out/tree.tar" -C "$WORK/check/tar" && diff -r "$WORK/tree" "$WORK/check/tar" >/dev/null ||
	wrong tar_c "the archive does not hold the tree"
coda $(at "${CMD[tar_x]}" /coda) && diff -r "$WORK/tree" "$VOL/untar" >/dev/null ||
	wrong tar_x "the unpacked tree differs"
make -s -j2 -C "$WORK/proj"
{ coda $(at "${CMD[make]}" /coda) && [ "$("$VOL/proj/prog")" = "$("$WORK/proj/prog")" ]; } ||
	wrong make "the program built in /coda gives another answer"
[ "$(coda $(at "${CMD[py_import]}" /coda) 2>&1)" = "$($(at "${CMD[py_import]}" "$VOL"))" ] ||
	wrong py_import "python3 prints another sum"
cc -O2 -c -o "$WORK/check/native.o" "$WORK/src/hello.c"
{ coda cc -O2 -c -o "$WORK/check/coda.o" "$WORK/src/hello.c" && cmp -s "$WORK/check/"{native,coda}.o; } ||
	wrong host_cc "the object differs"
for job in seq rand; do
	[ $job = seq ] && rw="read" || rw="randread"
	coda fio --name=v --filename=/coda/fio.dat --rw=$rw --bs=4k --size="${FIO_MB}M" --verify=crc32c \
		--invalidate=0 --readonly --verify_state_save=0 --output=/dev/null || wrong fio_$job "crc32c verify of $rw failed"
done
}
[ -z "$ONLY" ] && checks
echo "${!WRONG[*]}" >"$RES/wrong"

# ---- the anchors ----
if command -v proot >/dev/null; then
	PROOT="proot -b $VOL:/coda"
else
	PROOT=
	echo "bench: proot not found: no PRoot column" >&2
fi
if [ -w /dev/fuse ] && command -v bindfs >/dev/null && bindfs "$VOL" "$MNT" 2>"$RES/bindfs.err"; then
	BINDFS=1
else
	echo "bench: no bindfs mount here (no usable /dev/fuse or no bindfs): no bindfs column" >&2
	echo "no usable /dev/fuse or bindfs" >"$RES/bindfs.none"
fi
STATS=0
if $CXV true 2>/dev/null; then
	rm -f "$RES/probe.stats"
	if $CX --stats --log "$RES/probe.stats" --volume "$VOL" --cache "$CACHE" -- true 2>/dev/null &&
		grep -q 'stats:' "$RES/probe.stats"; then
		STATS=1
	else
		echo "bench: this coda-exec has no --stats: upcall counts n/a" >&2
	fi
fi

# A row's cells are measured in rounds, each column once a round in turn,
# so that a burst of load from elsewhere on the machine falls on every
# column alike rather than on one. A column is: its kind, its name, the
# shell command that prepares each run (not timed), its command (plain
# words) and, for the second pass, the shell command run between the passes.
C_KIND=() C_NAME=() C_PREP=() C_CMD=() C_BETWEEN=()
col() { # KIND NAME PREPARE COMMAND [BETWEEN]
	C_KIND+=("$1") C_NAME+=("$2") C_PREP+=("$3") C_CMD+=("$4") C_BETWEEN+=("${5:-true}")
}
failed() { # RESULT WHAT
	echo "bench: $1 failed: $2 (see $RES/$1.log)" >&2
	touch "$RES/$1.failed"
	rm -f "$RES/$1.txt"
}
fio_bw() { "$PY" -c 'import json, sys; print(json.load(sys.stdin)["jobs"][0]["read"]["bw_bytes"])'; }
once() { # KIND RESULT PREPARE COMMAND BETWEEN: one run, its number appended to RESULT.txt
	local out=$RES/$2
	[ -e "$out.failed" ] && return 0
	case $1 in
	time) # hyperfine with no shell in between (-N)
		hyperfine -N --style none --runs 1 --prepare "sh -c '$3 && sync'" --export-json "$out.json" "$4" \
			>"$out.log" 2>&1 &&
			"$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["results"][0]["median"])' \
				"$out.json" >>"$out.txt" ;;
	second | second_stage) # timed by micro from inside, after the first pass and BETWEEN
		local cx=$CXV
		[ "$1" = second_stage ] && cx=$CXS
		sh -c "$3 && sync" && $cx "$MICRO" second -c "$5 && sync" "$out.txt" -- $4 >/dev/null 2>"$out.log" ;;
	fio) # fio's own read bandwidth, in B/s: the open is not in it
		sh -c "$3 && sync" && $4 2>"$out.log" | fio_bw >>"$out.txt" ;;
	fio2) # the second of two fio runs inside one coda-exec run
		sh -c "$3 && sync" && $CXV sh -c "$4 >/dev/null && $4" 2>"$out.log" | fio_bw >>"$out.txt" ;;
	esac || failed "$2" "$4"
}
min() { echo $(($1 < $2 ? $1 : $2)); }
# RUNS rounds, or 3 once a first-round run took a second or more (a slow
# cell is steady enough with 3, and so the whole run stays near 15 minutes).
rounds() { # ROW RUNS
	local row=$1 n=$2 r i
	for ((r = 1; r <= n; r++)); do
		for i in "${!C_NAME[@]}"; do
			once "${C_KIND[$i]}" "$row.${C_NAME[$i]}" "${C_PREP[$i]}" "${C_CMD[$i]}" "${C_BETWEEN[$i]}"
		done
		[ "$r" = 1 ] && [ "${C_KIND[0]}" = time ] &&
			cat "$RES/$row".*.txt 2>/dev/null | awk '$1 >= 1 { slow = 1 } END { exit !slow }' &&
			n=$(min 3 "$n")
	done
	C_KIND=() C_NAME=() C_PREP=() C_CMD=() C_BETWEEN=()
}
stats_run() { # RESULT PREPARE COMMAND...: one more coda-exec run, with --stats
	local out=$1
	[ "$STATS" = 1 ] || return 0
	sh -c "$2" && $CX --stats --log "$RES/$out.stats" --volume "$VOL" --cache "$CACHE" -- "${@:3}" \
		>/dev/null 2>&1 || echo "bench: the --stats run of $out failed" >&2
}
# The columns of a row: KIND, the command's template, the reset (its
# template) or empty. The second pass resets inside coda-exec, at /coda.
columns() { # KIND TEMPLATE RESET ROW-IS-WRONG
	local kind=$1 t=$2 reset=${3:-true}
	col "$kind" native "$(at "$reset" "$VOL")" "$(at "$t" "$VOL")"
	if [ -z "$4" ]; then
		col "$kind" coda "$(at "$reset" "$VOL") && $WIPE" "$CXV $(at "$t" /coda)"
		[ "$kind" = time ] && col second coda2 "$(at "$reset" "$VOL") && $WIPE" \
			"$(at "$t" /coda)" "$(at "$reset" /coda)"
		[ "$kind" = time ] && col second_stage stage2 "$(at "$reset" "$VOL") && $WIPE" \
			"$(at "$t" /coda)" "$(at "$reset" /coda)"
	fi
	[ -n "$PROOT" ] && col "$kind" proot "$(at "$reset" "$VOL")" "$PROOT $(at "$t" /coda)"
	[ "$BINDFS" = 1 ] && col "$kind" bindfs "$(at "$reset" "$MNT")" "$(at "$t" "$MNT")"
	col "$kind" floor "$(at "$reset" "$VOL")" "$FLOOR $(at "$t" "$VOL")"
}

[ -n "$ONLY" ] && WORKLOADS=()
for w in "${WORKLOADS[@]}"; do
	echo "bench: $w"
	columns time "${CMD[$w]}" "${RESET[$w]:-}" "${WRONG[$w]:-}"
	rounds "$w" "$RUNS"
	[ -z "${WRONG[$w]:-}" ] && stats_run "$w" "$(reset_cmd "$w" "$VOL") && $WIPE" $(at "${CMD[$w]}" /coda)
done

# ---- one venus for many jobs: a first job through a server started on a
# fresh cache, and a second job through a server that has served the same
# workload to a first job; beside them native and a run with its own venus,
# its first run and its second pass ----
echo "bench: one venus for many jobs"
for w in "${SERVE_WORKLOADS[@]}"; do
	t=$(at "${CMD[$w]}" /coda)
	col time native true "$(at "${CMD[$w]}" "$VOL")"
	[ -z "${WRONG[$w]:-}" ] && col time coda "$WIPE" "$CXV $t" && col second coda2 "$WIPE" "$t" true
	if [ -z "${WRONG[serve_$w]:-}" ]; then
		col time first "$SERVER fresh" "$ATTACH $t"
		col time second "$SERVER fresh && $ATTACH $t >/dev/null" "$ATTACH $t"
	fi
	rounds "serve.$w" "$RUNS"
done
"$SERVER" stop
rest() { # the data path, per call, scaling and the extra rows

# ---- the data path; the second pass is a second fio inside one run ----
data_path() {
local WIPE=$WIPE_DATA # seen by columns and stats_run
for job in seq rand; do
	[ $job = seq ] && t=$FIO_SEQ || t=$FIO_RAND
	echo "bench: fio_$job"
	columns fio "$t" "" "${WRONG[fio_$job]:-}"
	[ -z "${WRONG[fio_$job]:-}" ] &&
		C_KIND+=(fio2) C_NAME+=(coda2) C_PREP+=("$WIPE") C_CMD+=("$(at "$t" /coda)") C_BETWEEN+=(true)
	rounds "fio_$job" "$RUNS"
	[ -z "${WRONG[fio_$job]:-}" ] && stats_run "fio_$job" "$WIPE" $(at "$t" /coda)
done
}
data_path

# ---- per call: bench/micro, each line the median of BATCHES batches of N;
# each test in every column in turn ----
echo "bench: micro"
"$MICRO" -n "$N" -b "$BATCHES" rtt >"$RES/micro.rtt.txt"
MCOLS=("native $VOL" "coda /coda $CXV" "stage /coda $CX --stage --volume $VOL --cache $CACHE --"
	"floor $VOL $FLOOR")
[ -n "$PROOT" ] && MCOLS+=("proot /coda $PROOT")
[ "$BINDFS" = 1 ] && MCOLS+=("bindfs $MNT")
for t in lstat-cold lstat-cached lstat-missing open-close create-write-close lstat-host; do
	for c in "${MCOLS[@]}"; do
		set -- $c
		col=$1 root=$2
		shift 2
		case $t in
		create-write-close) dir=$root/micro/w ;;
		lstat-host) dir=$WORK/hostm ;;
		*) dir=$root/micro/cold ;;
		esac
		"$ASIDE" "$VOL/micro/w" "$TRASH" && mkdir "$VOL/micro/w" && sh -c "$WIPE" && sync
		"$@" "$MICRO" -n "$N" -b "$BATCHES" "$t" "$dir" >>"$RES/micro.$col.txt" \
			2>>"$RES/micro.$col.log" || echo "bench: micro $t ($col) failed" >&2
	done
done
# An upcall's own cost: the LOOKUPs and GETATTRs of one lstat after another.
stats_run micro_cold "$WIPE" "$MICRO" -n "$N" -b "$BATCHES" lstat-cold /coda/micro/cold

# ---- scaling: find -ls of each size, time per file; memory from --stats ----
echo "bench: scaling ($SCALE)"
for n in $SCALE; do
	col time native true "find $VOL/scale/$n -ls"
	col time coda "$WIPE" "$CXV find /coda/scale/$n -ls"
	col time floor true "$FLOOR find $VOL/scale/$n -ls"
	rounds "scale.$n" "$SCALE_RUNS"
done
stats_run "scale.$n" "$WIPE" find "/coda/scale/$n" -ls

# ---- BENCH_EXTRA=1: rows the README cites for single design choices ----
extra() { # NAME NATIVE-CMD CODA-CMD
	echo "bench: $1"
	col time native true "$2"
	col time coda "$WIPE" "$3"
	rounds "$1" "$RUNS"
	echo "$1" >>"$RES/extra"
}
if [ -n "${BENCH_EXTRA:-}" ]; then
	TESTS=$(realpath -- "$(dirname -- "$CX")/../tests")
	# recvmsg is trapped, so that fds passed over a Unix socket land in the
	# band: one with room for control data is done by the supervisor.
	printf '%s\n' 'import socket' 'a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)' \
		'for i in range(20000):' '    a.send(b"x")' '    b.recvmsg(1, 64)' >"$WORK/recvmsg.py"
	# Under Docker's profile pidfd_getfd is denied: once a /coda fd has
	# been sent, each such socket is borrowed with ptrace.
	printf '%s\n' 'import os, socket, sys' 'a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)' \
		'socket.send_fds(a, [b"f"], [os.open(sys.argv[1], os.O_RDONLY)])' \
		'socket.recv_fds(b, 1, 1)' 'for i in range(20000):' '    a.send(b"x")' '    b.recvmsg(1, 64)' \
		>"$WORK/recvmsg_fd_sent.py"
	extra recvmsg "$PY $WORK/recvmsg.py" "$CXV $PY $WORK/recvmsg.py"
	if [ -x "$TESTS/container_profile" ]; then
		CP=$TESTS/container_profile
		extra recvmsg_profile "$CP $PY $WORK/recvmsg.py" "$CP $CXV $PY $WORK/recvmsg.py"
		extra recvmsg_fd_sent_profile "$CP $PY $WORK/recvmsg_fd_sent.py $VOL/fio.dat" \
			"$CP $CXV $PY $WORK/recvmsg_fd_sent.py /coda/fio.dat"
	fi
	# How containers come from venus: CODA_OPEN_BY_FD against BY_PATH, with
	# the embedded venus and, when built, the hosted test venus.
	READ_ALL="find /coda/many -type f -exec cat {} +"
	for how in fd path; do
		extra "open_$how" "find $VOL/many -type f -exec cat {} +" \
			"$CX --venus-open $how --volume $VOL --cache $CACHE -- $READ_ALL"
		[ -x "$TESTS/testvenus" ] && extra "open_${how}_hosted" "find $VOL/many -type f -exec cat {} +" \
			"$CX --venus-open $how --venus-cmd 'exec $TESTS/testvenus -volume $VOL -cache $CACHE' -- $READ_ALL"
	done
fi

}
[ -z "$ONLY" ] && rest

# ---- the report ----
commit=$(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo unknown)
[ -n "$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null)" ] && commit="$commit (with changes)"
"$PY" "$ROOT/bench/report.py" "$WORK" "$OUT" \
	"commit=$commit" "kernel=$(uname -r)" "cpus=$(nproc)" \
	"cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)" \
	"memory=$(awk '/^MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)" \
	"date=$(date -u '+%Y-%m-%d %H:%M UTC')" "seconds=$(($(date +%s) - START))" \
	"runs=$RUNS" "files=$FILES" "tree=$TREE" "modules=$MODULES" "sources=$SOURCES" \
	"fio_mb=$FIO_MB" "n=$N" "batches=$BATCHES" "scale=$SCALE" "scale_runs=$SCALE_RUNS" \
	"bindfs=$BINDFS" "proot=${PROOT:+1}" "stats=$STATS" "only=$ONLY"
