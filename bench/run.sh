#!/bin/bash
# bench/run.sh [CODA_EXEC] -- measure coda-exec against native runs in one go.
#
# Workloads (see bench/README.md): sequential read of a big file from /coda,
# stat of 10,000 files in /coda, a C compile outside /coda, and the bare
# start-up cost.  Every pair is timed with hyperfine (--warmup, --export-json)
# and summarised as a table:  workload | native | coda-exec | ratio.
#
# Environment: BENCH_READ_MB (default 256), BENCH_FILES (default 10000),
# BENCH_RUNS (minimum runs per command, default 10), BENCH_KEEP=1 keeps the
# temp dir (with the hyperfine JSON files), BENCH_DIR=DIR puts it under DIR.
set -euo pipefail

ROOT=$(cd -- "$(dirname -- "$0")/.." && pwd -P)
CX=${1:-$ROOT/build/supervisor/coda-exec}
if [ ! -x "$CX" ]; then
	echo "bench: $CX: not built (run: meson setup build && ninja -C build)" >&2
	exit 2
fi
CX=$(realpath -- "$CX")
for tool in hyperfine python3 cc; do
	command -v "$tool" >/dev/null || {
		echo "bench: $tool not found (./quickstart.sh installs it)" >&2
		exit 2
	}
done

READ_MB=${BENCH_READ_MB:-256}
NFILES=${BENCH_FILES:-10000}
RUNS=${BENCH_RUNS:-10}
export LC_ALL=C

WORK=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/coda-bench.XXXXXX")
WORK=$(realpath -- "$WORK")
cleanup() {
	if [ -n "${BENCH_KEEP:-}" ]; then
		echo "kept $WORK"
	else
		rm -rf -- "$WORK"
	fi
}
trap cleanup EXIT
chmod 755 "$WORK"
VOL=$WORK/vol
CACHE=$WORK/cache
mkdir -p "$VOL" "$CACHE" "$CACHE.h" "$WORK/src" "$WORK/out"

echo "preparing: ${READ_MB} MiB file, ${NFILES} files, a C source ($WORK)"
head -c "$((READ_MB * 1024 * 1024))" /dev/urandom >"$VOL/big.bin"
python3 - "$VOL/many" "$NFILES" <<'EOF'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    d = os.path.join(root, "d%03d" % (i // 100))
    if i % 100 == 0:
        os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "f%05d" % i), "w") as f:
        f.write("x" * (i % 64))
EOF
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

# The write path: a tree of 5,000 files to unpack, and a C project (ten
# sources, a static library, a binary) for make -j2.
python3 - "$WORK/tree" <<'EOF2'
import os, sys
root = sys.argv[1]
for i in range(5000):
    d = os.path.join(root, "d%02d" % (i // 100), "s%d" % (i % 5))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "f%04d.txt" % i), "w") as f:
        f.write("line %d\n" % i * (1 + i % 40))
EOF2
tar cf "$WORK/tree.tar" -C "$WORK/tree" .
make_project() { # DIR
	mkdir -p "$1/lib"
	for i in 0 1 2 3 4 5 6 7 8 9; do
		printf 'int f%d(int x) { int s = 0; for (int i = 0; i < x; i++) s += i * %d; return s; }\n' \
			"$i" "$i" >"$1/lib/f$i.c"
	done
	printf '#include <stdio.h>\nint f0(int);int f9(int);\nint main(void) { printf("%%d\\n", f0(9) + f9(9)); return 0; }\n' >"$1/main.c"
	printf 'OBJ = %s\nprog: main.o libf.a\n\t$(CC) -o $@ main.o libf.a\nlibf.a: $(OBJ)\n\t$(AR) rcs $@ $(OBJ)\n%%.o: %%.c\n\t$(CC) -O2 -c -o $@ $<\nclean:\n\trm -f prog main.o libf.a $(OBJ)\n' \
		"$(cd "$1" && echo lib/f*.c | sed 's/\.c/.o/g')" >"$1/Makefile"
}
make_project "$VOL/proj"
make_project "$WORK/proj"
mkdir -p "$VOL/untar" "$WORK/untar"

CXV=("$CX" --volume "$VOL" --cache "$CACHE" --)

# Correctness first (a fast wrong answer is no result): a workload whose
# output under coda-exec is wrong is not timed and shows as failed.  The md5
# check also warms the container cache for /coda/big.bin.
ok_read=1 ok_stat=1
want=$(md5sum <"$VOL/big.bin" | cut -d' ' -f1)
got=$("${CXV[@]}" md5sum /coda/big.bin 2>/dev/null | cut -d' ' -f1) || true
if [ "$want" != "$got" ]; then
	echo "bench: coda-exec read /coda/big.bin wrongly (md5 '$got', expected $want)" >&2
	ok_read=0
fi
nwant=$(find "$VOL/many" -printf '%s%m\n' | md5sum)
ngot=$("${CXV[@]}" find /coda/many -printf '%s%m\n' 2>/dev/null | md5sum) || true
if [ "$nwant" != "$ngot" ]; then
	echo "bench: find /coda/many under coda-exec differs from find $VOL/many" >&2
	ok_stat=0
fi
"${CXV[@]}" cat /coda/big.bin >/dev/null 2>&1 || true

# hyperfine with no shell in between (-N): what is timed is the command.
hf() { # NAME NATIVE-CMD CODA-CMD
	local name=$1
	rm -f "$WORK/$name.json"
	echo
	echo "=== $name"
	if ! hyperfine -N --warmup 2 --min-runs "$RUNS" --export-json "$WORK/$name.json" \
		-n native "$2" -n coda-exec "$3"; then
		echo "bench: $name failed" >&2
		rm -f "$WORK/$name.json"
	fi
	return 0
}

# The data path: dd's own rate (bytes over its copy time), so start-up and
# the open upcall, which the rows below show, are not counted; median of runs.
dd_rate() { # OUT-NAME DD-ARGV...
	local out=$1 i
	shift
	for i in $(seq "$RUNS"); do
		"$@" 2>&1 >/dev/null | tail -1
	done | python3 -c '
import re, statistics, sys
r = [int(m.group(1)) / float(m.group(2)) for m in
     (re.match(r"(\d+) bytes .* copied, ([0-9.e-]+) s", l) for l in sys.stdin) if m]
print(statistics.median(r) / 1e6 if r else "")' >"$WORK/$out"
}
if [ "$ok_read" = 1 ]; then
	echo
	echo "=== seqread (dd's own rate, $RUNS runs each)"
	dd_rate seqread.native dd if="$VOL/big.bin" of=/dev/null bs=1M
	dd_rate seqread.coda "$CX" --volume "$VOL" --cache "$CACHE" -- dd if=/coda/big.bin of=/dev/null bs=1M
fi
[ "$ok_stat" = 1 ] && hf stat "find $VOL/many -printf %s%m" \
	"$CX --volume $VOL --cache $CACHE -- find /coda/many -printf %s%m"
hf cc "cc -O2 -o $WORK/out/hello $WORK/src/hello.c" \
	"$CX --volume $VOL --cache $CACHE -- cc -O2 -o $WORK/out/hello $WORK/src/hello.c"
hf startup "true" "$CX --volume $VOL --cache $CACHE -- true"

# recvmsg is trapped, so that fds passed over a Unix socket land in the band:
# one with room for control data is done by the supervisor.
printf '%s\n' 'import socket' 'a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)' \
	'for i in range(20000):' '    a.send(b"x")' '    b.recvmsg(1, 64)' >"$WORK/recvmsg.py"
hf recvmsg "python3 $WORK/recvmsg.py" "$CX --volume $VOL --cache $CACHE -- python3 $WORK/recvmsg.py"
# Under Docker's profile pidfd_getfd is denied: once a /coda fd has been
# sent (sends are trapped there), each such socket is borrowed with ptrace
# (supervisor/ptrace_call.c); recvmsg_fd_sent sends one first.
printf '%s\n' 'import os, socket, sys' 'a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)' \
	'socket.send_fds(a, [b"f"], [os.open(sys.argv[1], os.O_RDONLY)])' \
	'socket.recv_fds(b, 1, 1)' 'for i in range(20000):' '    a.send(b"x")' '    b.recvmsg(1, 64)' \
	>"$WORK/recvmsg_fd_sent.py"
CP=$ROOT/build/tests/container_profile
if [ -x "$CP" ]; then
	hf recvmsg_profile "$CP python3 $WORK/recvmsg.py" \
		"$CP $CX --volume $VOL --cache $CACHE -- python3 $WORK/recvmsg.py"
	hf recvmsg_fd_sent_profile "$CP python3 $WORK/recvmsg_fd_sent.py $VOL/big.bin" \
		"$CP $CX --volume $VOL --cache $CACHE -- python3 $WORK/recvmsg_fd_sent.py /coda/big.bin"
fi

# How containers come from venus: CODA_OPEN_BY_FD (venus's fd, passed or taken
# from its fd table) against CODA_OPEN_BY_PATH (venus names it, we open it),
# with the embedded venus and, when built, the hosted test venus.
READ_ALL="find /coda/many -type f -exec cat {} +"
hf open_fd "find $VOL/many -type f -exec cat {} +" \
	"$CX --venus-open fd --volume $VOL --cache $CACHE -- $READ_ALL"
hf open_path "find $VOL/many -type f -exec cat {} +" \
	"$CX --venus-open path --volume $VOL --cache $CACHE -- $READ_ALL"
TV=$ROOT/build/tests/testvenus
if [ -x "$TV" ]; then
	hf open_fd_hosted "find $VOL/many -type f -exec cat {} +" \
		"$CX --venus-open fd --venus-cmd 'exec $TV -volume $VOL -cache $CACHE.h' -- $READ_ALL"
	hf open_path_hosted "find $VOL/many -type f -exec cat {} +" \
		"$CX --venus-open path --venus-cmd 'exec $TV -volume $VOL -cache $CACHE.h' -- $READ_ALL"
fi

# Write workloads: hyperfine's --prepare puts the tree back before each run.
hfw() { # NAME PREPARE-NATIVE NATIVE-CMD PREPARE-CODA CODA-CMD
	local name=$1
	rm -f "$WORK/$name.json"
	echo
	echo "=== $name"
	if ! hyperfine -N --warmup 1 --min-runs "$RUNS" --export-json "$WORK/$name.json" \
		--prepare "$2" -n native "$3" --prepare "$4" -n coda-exec "$5"; then
		echo "bench: $name failed" >&2
		rm -f "$WORK/$name.json"
	fi
	return 0
}
hfw untar "sh -c 'rm -rf $WORK/untar && mkdir $WORK/untar'" "tar xf $WORK/tree.tar -C $WORK/untar" \
	"sh -c 'rm -rf $VOL/untar && mkdir $VOL/untar'" \
	"$CX --volume $VOL --cache $CACHE -- tar xf $WORK/tree.tar -C /coda/untar"
hfw make "make -s -C $WORK/proj clean" "make -s -j2 -C $WORK/proj" \
	"make -s -C $VOL/proj clean" "$CX --volume $VOL --cache $CACHE -- make -s -j2 -C /coda/proj"
if ! diff -r "$WORK/tree" "$VOL/untar" >/dev/null; then
	echo "bench: the tree unpacked in /coda differs from the original" >&2
	rm -f "$WORK/untar.json"
fi
if [ "$("$VOL/proj/prog")" != "$("$WORK/proj/prog")" ]; then
	echo "bench: the program built in /coda gives another answer" >&2
	rm -f "$WORK/make.json"
fi

echo
python3 - "$WORK" "$READ_MB" "$NFILES" <<'EOF'
import json, os, sys
work, read_mb, nfiles = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

def load(name):
    p = os.path.join(work, name + ".json")
    if not os.path.exists(p):
        return None
    r = {x["command"]: x for x in json.load(open(p))["results"]}
    return r["native"]["mean"], r["native"]["stddev"], r["coda-exec"]["mean"], r["coda-exec"]["stddev"]

rows = []
def ms(m, s):
    return "%.2f ms +- %.2f" % (m * 1e3, (s or 0) * 1e3)

def rate(name):
    try:
        return float(open(os.path.join(work, name)).read())
    except (OSError, ValueError):
        return None

n, c = rate("seqread.native"), rate("seqread.coda")
if n and c:
    rows.append(("sequential read %d MiB from /coda (MB/s)" % read_mb,
                 "%.0f MB/s" % n, "%.0f MB/s" % c,
                 "%.3f (coda/native throughput, target >= 0.95)%s" % (c / n, "" if c / n >= 0.95 else "  BELOW TARGET")))
else:
    rows.append(("sequential read %d MiB from /coda" % read_mb, "-", "-", "failed"))
for name, label in (("stat", "stat %d files in /coda (find -printf)" % nfiles),
                    ("cc", "cc -O2 hello.c outside /coda"),
                    ("untar", "tar x of 5,000 files into /coda"),
                    ("make", "make -j2 of a 10-file C project in /coda"),
                    ("startup", "start-up: true"),
                    ("recvmsg", "20,000 recvmsg with control room (python3)"),
                    ("recvmsg_profile", "the same under tests/e2e/container_profile"),
                    ("recvmsg_fd_sent_profile", "the same after a /coda fd was sent (borrowed)"),
                    ("open_fd", "open+read %d files, CODA_OPEN_BY_FD" % nfiles),
                    ("open_path", "open+read %d files, CODA_OPEN_BY_PATH" % nfiles),
                    ("open_fd_hosted", "the same, hosted test venus, BY_FD"),
                    ("open_path_hosted", "the same, hosted test venus, BY_PATH")):
    if (name.endswith("_hosted") or name.endswith("_profile")) and not os.path.exists(os.path.join(work, name + ".json")):
        continue
    r = load(name)
    if r:
        rows.append((label, ms(r[0], r[1]), ms(r[2], r[3]), "%.2fx (time, coda/native)" % (r[2] / r[0])))
    else:
        rows.append((label, "-", "-", "failed"))

head = ("workload", "native", "coda-exec", "ratio")
w = [max(len(x[i]) for x in rows + [head]) for i in range(4)]
fmt = " | ".join("%%-%ds" % x for x in w)
print(fmt % head)
print("-|-".join("-" * x for x in w))
for row in rows:
    print(fmt % row)
sys.exit(1 if any(r[3] == "failed" for r in rows) else 0)
EOF
