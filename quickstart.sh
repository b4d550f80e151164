#!/bin/bash
# quickstart.sh demo|test
#
#   ./quickstart.sh demo   install what is missing, build, and run a command
#                          under coda-exec on a generated demo volume
#   ./quickstart.sh test   install what is missing, build, run the test suite
#                          (unit + end-to-end), again with ASan/UBSan, check
#                          the C formatting and the supervisor's layers
#                          (.ci/check-layers), and print "N passed, N failed"
#
# Debian packages are installed with apt-get (through sudo when not root) only
# when dpkg-query says they are missing.  Build dirs: build/, build-asan/.
set -euo pipefail
cd -- "$(dirname -- "$0")"

PKGS=(meson ninja-build pkg-config gcc libseccomp-dev libcap-ng-dev libcriterion-dev
	uthash-dev scdoc man-db linux-libc-dev busybox-static python3 git tar findutils coreutils
	grep sqlite3 clang-format hyperfine file util-linux rsync make
	stress-ng fio dbench e2fsprogs proot bindfs fuse3
	debhelper lintian dpkg-dev fakeroot strace)

usage() {
	echo "usage: $0 demo|test" >&2
	exit 2
}
[ $# -eq 1 ] || usage
MODE=$1
case "$MODE" in demo | test) ;; *) usage ;; esac

step() { printf '\n==> %s\n' "$*"; }

install_deps() {
	local missing=() p
	for p in "${PKGS[@]}"; do
		if [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" != installed ]; then
			missing+=("$p")
		fi
	done
	if [ ${#missing[@]} -eq 0 ]; then
		echo "all ${#PKGS[@]} Debian packages are installed"
		return 0
	fi
	step "installing: ${missing[*]}"
	local sudo=()
	if [ "$(id -u)" != 0 ]; then
		command -v sudo >/dev/null || {
			echo "$0: not root and no sudo: install ${missing[*]}" >&2
			exit 1
		}
		sudo=(sudo)
	fi
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		--no-install-recommends "${missing[@]}" </dev/null
}

# configure DIR [meson options...]: set up or reconfigure, then build
configure_and_build() {
	local dir=$1
	shift
	if [ -f "$dir/meson-private/coredata.dat" ]; then
		meson setup --reconfigure "$dir" "$@"
	else
		meson setup "$dir" "$@"
	fi
	ninja -C "$dir"
}

PASSED=0
FAILED=0
SKIPPED=0

# start_meson_tests DIR [MESON-TEST-ARGS...]: meson test in the background,
# its output kept in DIR/meson-logs/quickstart.txt for count_meson_tests.
start_meson_tests() {
	local dir=$1
	shift
	rm -f "$dir/meson-logs/testlog.json"
	# A background job of a script starts with SIGINT and SIGQUIT ignored,
	# which the suites' commands would inherit (and a shell cannot trap).
	env --default-signal=INT,QUIT meson test -C "$dir" --print-errorlogs "$@" \
		>"$dir/meson-logs/quickstart.txt" 2>&1 &
}

# count_meson_tests DIR: shows its output, then adds up
# DIR/meson-logs/testlog.json
count_meson_tests() {
	local dir=$1 counts
	cat "$dir/meson-logs/quickstart.txt"
	counts=$(python3 - "$dir/meson-logs/testlog.json" <<'EOF'
# Counts test cases, not meson tests: a suite's own closing line (Criterion's
# "Synthesis", or "N passed, N failed") gives its cases; a test without one
# counts as one.
import json, re, sys
p = f = s = 0
plain = re.compile(r"^(?:\w+: )?(\d+) passed, (\d+) failed", re.M)
crit = re.compile(r"Synthesis: Tested: (\d+) \| Passing: (\d+) \| Failing: (\d+) \| Crashing: (\d+)")
try:
    for line in open(sys.argv[1]):
        if not line.strip():
            continue
        r = json.loads(line)
        out = (r.get("stdout") or "") + (r.get("stderr") or "")
        ok = r["result"] in ("OK", "EXPECTEDFAIL")
        m = crit.findall(out)
        n = plain.findall(out)
        if r["result"] == "SKIP":
            s += 1
        elif m:
            tested, passing, failing, crashing = map(int, m[-1])
            p += passing
            f += failing + crashing + (0 if ok or failing + crashing else 1)
        elif n:
            passed, failed = map(int, n[-1])
            p += passed
            f += failed + (0 if ok or failed else 1)
        elif ok:
            p += 1
        else:
            f += 1
except OSError:
    f += 1  # no log: meson test could not run at all
if p + f + s == 0:
    f += 1  # no test ran: that is a failure too
print(p, f, s)
EOF
	)
	read -r p f s <<<"$counts"
	echo "$dir: $p passed, $f failed, $s skipped (test cases)"
	PASSED=$((PASSED + p))
	FAILED=$((FAILED + f))
	SKIPPED=$((SKIPPED + s))
}

install_deps

if [ "$MODE" = demo ]; then
	step "building (build/)"
	configure_and_build build
	data=${XDG_DATA_HOME:-$HOME/.local/share}/coda-exec
	vol=$data/demo-volume
	cache=${XDG_CACHE_HOME:-$HOME/.cache}/coda-exec/demo
	if [ ! -f "$vol/README.md" ]; then
		step "creating the demo volume in $vol"
		rm -rf -- "$vol"
		tests/e2e/make-volume.sh "$vol"
	fi
	mkdir -p "$cache"
	demo='echo "\$ ls -lR /coda | head -40"; ls -lR /coda | head -40
echo; echo "\$ cat /coda/README.md"; cat /coda/README.md
echo; echo "\$ cd /coda/repo && git log --oneline"; cd /coda/repo && git -c safe.directory="*" --no-pager log --oneline --decorate
echo; echo "\$ python3 -c \"import pkg\" (from /coda)"; python3 -B -c "import sys; sys.path.insert(0, \"/coda\"); import pkg; print(pkg.greet(\"demo\"), pkg.VERSION)"
echo; echo "\$ date >> /coda/demo-log.txt; tail -3 /coda/demo-log.txt   (stored back to the volume on close)"
date >> /coda/demo-log.txt; tail -3 /coda/demo-log.txt'
	step "build/supervisor/coda-exec --volume $vol -- sh -c '...'"
	exec build/supervisor/coda-exec --volume "$vol" --cache "$cache" -- sh -c "$demo"
fi

# ---------------------------------------------------------------- test mode
# The plain and the sanitizer build's suites run side by side: each suite
# runs its tests one at a time (they time what they run), and on two cores
# the two streams take about two thirds of the time one after the other.
step "build (build/)"
plain_ok=0
configure_and_build build && plain_ok=1 || echo "build/: build failed"
step "build with AddressSanitizer and UBSan (build-asan/)"
asan_ok=0
configure_and_build build-asan -Db_sanitize=address,undefined -Db_lundef=false && asan_ok=1 ||
	echo "build-asan/: build failed"
step "test build/ and build-asan/ side by side"
[ "$plain_ok" = 1 ] && start_meson_tests build
# The suites' repeats under Docker's profile run no code their plain runs do
# not, and the package suite builds from the source tree, not from a build
# dir (tests/meson.build): both left to the plain build.
[ "$asan_ok" = 1 ] && start_meson_tests build-asan --no-suite profile-repeats --no-suite package
wait
for built in build:$plain_ok build-asan:$asan_ok; do
	step "results of ${built%:*}/"
	if [ "${built#*:}" = 1 ]; then
		count_meson_tests "${built%:*}"
	else
		FAILED=$((FAILED + 1))
	fi
done

step "clang-format check"
fmtlog=$(mktemp)
trap 'rm -f -- "$fmtlog"' EXIT
mapfile -d '' sources < <(find . \( -path './build*' -o -path ./.git -o -path ./subprojects \) -prune \
	-o -type f \( -name '*.c' -o -name '*.h' \) -print0 | sort -z)
if [ ${#sources[@]} -eq 0 ]; then
	echo "no C sources found"
	FAILED=$((FAILED + 1))
elif clang-format --dry-run --Werror "${sources[@]}" 2>"$fmtlog"; then
	echo "clang-format: ${#sources[@]} files clean"
	PASSED=$((PASSED + 1))
else
	echo "clang-format: these files need formatting (clang-format -i FILE):"
	sed -n 's/^\([^:]*\):[0-9]*:[0-9]*: error: .*/  \1/p' "$fmtlog" | uniq
	FAILED=$((FAILED + 1))
fi

step "layer check (.ci/check-layers)"
# The supervisor's one-way layers and no include cycles (issue 13); one test.
if python3 .ci/check-layers; then
	PASSED=$((PASSED + 1))
else
	FAILED=$((FAILED + 1))
fi

echo
if [ "$SKIPPED" -gt 0 ]; then
	echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
else
	echo "$PASSED passed, $FAILED failed"
fi
[ "$FAILED" -eq 0 ]
