# Shared helpers of the end-to-end suites tests/e2e/run.sh,
# tests/e2e/write.sh and tests/e2e/tree.sh; sourced (never run) after they set HERE to their own
# directory:  . "$HERE/lib.sh"
#
# Conventions the helpers rely on: $T is the per-command scratch dir, where a
# command run as TAG leaves $T/TAG.out, $T/TAG.err and $T/TAG.rc; $DETAIL
# collects the report of the current test; PASSED and FAILED count tests.
# Both suites run with `set -uo pipefail`.

# fixed_environment: a fixed, boring environment (locale, time zone, PATH, no
# user git config or pager, umask 022), the same for both sides of every
# comparison.
fixed_environment() {
	export LC_ALL=C TZ=UTC PYTHONDONTWRITEBYTECODE=1
	export PATH=/usr/sbin:/usr/bin:/sbin:/bin
	export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null GIT_PAGER=cat PAGER=cat
	unset LANG LANGUAGE CDPATH ENV BASH_ENV GREP_OPTIONS GIT_DIR GIT_WORK_TREE \
		PYTHONPATH PYTHONHOME PYTHONSTARTUP TAR_OPTIONS POSIXLY_CORRECT QUOTING_STYLE \
		LS_COLORS TIME_STYLE BLOCK_SIZE DU_BLOCK_SIZE
	umask 022
}

# suite_settings: the settings read from the environment (CODA_E2E_PREFIX,
# CODA_E2E_FILTER, CODA_E2E_TIMEOUT) and the fixed paths of the suites.
suite_settings() {
	PREFIX=${CODA_E2E_PREFIX:-}
	FILTER=${CODA_E2E_FILTER:-}
	TMO=${CODA_E2E_TIMEOUT:-120}
	MNT=/coda
	BUSYBOX=/bin/busybox
	PY=/usr/bin/python3
}

# make_workdir NAME: a fresh world-readable temp dir $TMPDIR/NAME.XXXXXX as
# $WORK (exit 125 if that fails), removed on exit unless CODA_E2E_KEEP is set.
make_workdir() {
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX") || exit 125
	WORK=$(realpath -- "$WORK")
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	chmod 755 "$WORK"
}

# cleanup: the EXIT trap of make_workdir; removes (or, with CODA_E2E_KEEP,
# names) $WORK.
cleanup() {
	if [ -n "${CODA_E2E_KEEP:-}" ]; then
		echo "kept $WORK"
	else
		rm -rf -- "$WORK"
	fi
}

# suite_start NAME: the start of a suite: the fixed environment and
# settings, a work dir $WORK (NAME.XXXXXX) with $T in it, no test run yet and
# none registered (TESTS).
suite_start() {
	fixed_environment
	suite_settings
	make_workdir "$1"
	T=$WORK/t
	make_dirs "$T"
	init_reporting
	TESTS=()
}

# new_volume TEXT: a fresh $VOL holding f.txt (printf TEXT), and an empty
# $CACHE, both in $WORK.
new_volume() {
	VOL=$WORK/vol.$RANDOM$RANDOM
	CACHE=$WORK/cache.$RANDOM$RANDOM
	make_dirs "$VOL" "$CACHE"
	printf "$1" >"$VOL/f.txt"
}

# make_dirs DIR...: create the directories, mode 755.
make_dirs() {
	mkdir -p "$@"
	chmod 755 "$@"
}

# setup_failed WHAT LOG: report a failed set-up step (WHAT, then LOG on
# stderr) as one failure and exit 1.
setup_failed() {
	echo "$1" >&2
	cat "$2" >&2
	echo "0 passed, 1 failed"
	exit 1
}

# sed_escape STRING: STRING quoted for use as a literal in a sed regex.
sed_escape() { printf '%s' "$1" | sed 's/[][\.*^$|/]/\\&/g'; }

# drop_sanitizer_notes FILE: an ASan build of coda-exec that switches stacks
# with swapcontext prints this one harmless line on the shared stderr; it is
# removed from FILE.  Any other sanitizer output stays (and fails the
# comparison).
drop_sanitizer_notes() {
	sed -i "/^==[0-9]*==WARNING: ASan doesn't fully support makecontext\/swapcontext functions/d" "$1"
}

# hosted_args ARGS...: with CODA_E2E_TESTVENUS set (the test venus of
# tests/testvenus), the coda-exec options --volume V and --cache C become
# --venus-cmd 'TESTVENUS -volume V -cache C', so that a suite runs against a
# hosted stock-like venus instead of the embedded one; the result is in the
# positional parameters of the caller (set -- "${HOSTED_ARGS[@]}").
hosted_args() {
	local vol='' cache='' flags='' rest=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		case $1 in
		--volume) vol=$2; shift 2 ;;
		--cache) cache=$2; shift 2 ;;
		--read-only) flags+=" -read-only"; shift ;;
		--mount) flags+=" -mountpoint $2"; shift 2 ;;
		-v) rest+=("$1"); flags+=" -v"; shift ;;
		*) rest+=("$1"); shift ;;
		esac
	done
	HOSTED_ARGS=("${rest[@]}")
	if [ -n "$vol" ]; then
		HOSTED_ARGS+=(--venus-cmd "exec $CODA_E2E_TESTVENUS -volume $vol -cache ${cache:-$vol.cache}$flags")
	fi
	HOSTED_ARGS+=("$@")
}

# cx_capture TAG SUFFIX ARGS...: coda-exec ARGS verbatim, stdin $STDIN
# (default /dev/null), stdout and stderr to $T/TAG.out$SUFFIX and
# $T/TAG.err$SUFFIX (the ASan note dropped), status to $T/TAG.rc.  Run in a
# subshell, so that bash's "Killed"/"Terminated" notes go nowhere.
cx_capture() {
	local tag=$1 sfx=$2
	shift 2
	if [ -n "${CODA_E2E_TESTVENUS:-}" ]; then
		hosted_args "$@"
		set -- "${HOSTED_ARGS[@]}"
	fi
	(
		timeout -k 5 "$TMO" "$CODA_EXEC" "$@" <"${STDIN:-/dev/null}" >"$T/$tag.out$sfx" 2>"$T/$tag.err$sfx"
		echo $? >"$T/$tag.rc"
	) 2>/dev/null
	drop_sanitizer_notes "$T/$tag.err$sfx"
}

# ---------------------------------------------------------------- reporting

# init_reporting: no test passed or failed yet; $DETAIL is $T/detail.
init_reporting() {
	PASSED=0
	FAILED=0
	DETAIL=$T/detail
}

# note TEXT...: a line for the report of the current test.
note() { printf '%s\n' "$*" >>"$DETAIL"; }

# blob TAG: what is compared of a run: stdout, stderr and exit status.
blob() {
	cat "$T/$1.out"
	printf -- '--- stderr ---\n'
	cat "$T/$1.err"
	printf -- '--- exit status %s ---\n' "$(cat "$T/$1.rc")"
}

# same_outputs A B LABEL: fail unless stdout, stderr and status of A and B
# are identical; the report shows LABEL, the status, then the stderr diff
# (usually the telling part), then the stdout diff, each cut short.  The
# suites set the wording of the headline and the length of the stdout diff:
# SAME_OUTPUTS_DIFFER (default "differs") and SAME_OUTPUTS_LINES (default 50).
same_outputs() {
	local a=$1 b=$2 label=$3
	blob "$a" >"$T/$a.blob"
	blob "$b" >"$T/$b.blob"
	if cmp -s "$T/$a.blob" "$T/$b.blob"; then
		return 0
	fi
	note "$label"
	note "  ${SAME_OUTPUTS_DIFFER:-differs} (--- $a, +++ $b)"
	if ! cmp -s "$T/$a.rc" "$T/$b.rc"; then
		note "  exit status: $a $(cat "$T/$a.rc"), $b $(cat "$T/$b.rc")"
	fi
	if ! cmp -s "$T/$a.err" "$T/$b.err"; then
		note "  stderr:"
		diff -a -u --label "$a" --label "$b" "$T/$a.err" "$T/$b.err" | tail -n +3 |
			head -n 25 | cut -c1-300 >>"$DETAIL"
	fi
	if ! cmp -s "$T/$a.out" "$T/$b.out"; then
		note "  stdout ($(wc -l <"$T/$a.out") vs $(wc -l <"$T/$b.out") lines):"
		diff -a -u --label "$a" --label "$b" "$T/$a.out" "$T/$b.out" | tail -n +3 |
			head -n "${SAME_OUTPUTS_LINES:-50}" | cut -c1-300 >>"$DETAIL"
	fi
	return 1
}

# expect_grep TAG STREAM TEXT: STREAM (out or err) of TAG must contain TEXT.
expect_grep() {
	if grep -qF -- "$3" "$T/$1.$2"; then
		return 0
	fi
	note "$1: $2 does not contain '$3':"
	head -c 600 "$T/$1.$2" >>"$DETAIL"
	return 1
}

# elapsed_since START: seconds (float) since $EPOCHREALTIME was START
elapsed_since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }

# expect_fast TAG START MAX: fail on a timeout (status 124/137 from timeout)
# or if more than MAX seconds passed since START.
expect_fast() {
	local took
	took=$(elapsed_since "$2")
	if awk -v t="$took" -v m="$3" 'BEGIN { exit !(t > m) }'; then
		note "$1: took ${took}s, more than $3s (a hang?)"
		return 1
	fi
}

# expect_upcalls TAG OPCODE N: TAG ran with --trace, and its stderr shows
# exactly N upcalls of OPCODE (as --trace names it: OPEN_BY_FD, CLOSE...).
expect_upcalls() {
	local n
	n=$(grep -c "^coda-exec: trace: upcall [0-9]* $2 " "$T/$1.err")
	[ "$n" = "$3" ] && return 0
	note "$1: venus was asked $n $2 upcalls, not $3:"
	grep -E "upcall [0-9]+ $2 " "$T/$1.err" | head -10 >>"$DETAIL"
	return 1
}

# traced_run_gives SCRIPT TEXT: SCRIPT, run as case c with --trace (for
# expect_upcalls), exits 0 and prints TEXT.
traced_run_gives() {
	run_coda c "$1" --trace
	expect_rc c 0 && expect_text c out "$2"
}

# expect_out TAG TEXT: stdout of TAG must be TEXT (and a newline).
expect_out() {
	local want
	want=$(printf '%s\n' "$2")
	if [ "$(cat "$T/$1.out")" = "$want" ]; then
		return 0
	fi
	note "$1: stdout is not what was expected:"
	diff <(printf '%s\n' "$want") "$T/$1.out" >>"$DETAIL"
	note "  stderr: $(head -c 600 "$T/$1.err")"
	return 1
}

# FIND_VENUS: shell code for a target's `sh -c` started by coda-exec: sets $v
# to the pid of venus, coda-exec's oldest child (exit 99 if that is us). Not
# "its other child": a hosted venus's mount helper, reparented to coda-exec
# (the subreaper) for a moment, would make two.
FIND_VENUS='v=$(pgrep -o -P $PPID); [ -n "$v" ] && [ "$v" != $$ ] || { echo "venus not found: [$v]" >&2; exit 99; }'

# expect_rc TAG N: the recorded status of TAG must be N.
expect_rc() {
	local got
	got=$(cat "$T/$1.rc")
	if [ "$got" = "$2" ]; then
		return 0
	fi
	note "$1: exit status $got, expected $2"
	note "  stdout: $(head -c 600 "$T/$1.out")"
	note "  stderr: $(head -c 600 "$T/$1.err")"
	return 1
}

# run_test NAME: run the test function NAME; print "PASS NAME" or "FAIL NAME"
# with its report indented, and count it.
run_test() {
	local name=$1
	: >"$DETAIL"
	if "$name"; then
		echo "PASS $PREFIX$name"
		PASSED=$((PASSED + 1))
	else
		echo "FAIL $PREFIX$name"
		sed 's/^/    /' "$DETAIL"
		FAILED=$((FAILED + 1))
	fi
}

# warn_if_mount_exists: a note on stderr if $MNT exists on this host.
warn_if_mount_exists() {
	if [ -e "$MNT" ]; then
		echo "warning: $MNT exists on this host; paths under it are shadowed by coda-exec" >&2
	fi
}

# ------------------------------------------- scenarios run natively and in /coda
# The helpers of the suites that run a command twice, natively in a plain
# copy of a seed tree and under coda-exec with another copy as the volume
# (write.sh, tree.sh); they use $CASES (one directory per scenario), $T,
# $CODA_EXEC, $MNT and $PY.

# expect_text TAG STREAM WANT: STREAM (out or err) of TAG is exactly WANT.
expect_text() {
	if [ -n "$3" ]; then printf '%s\n' "$3"; fi >"$T/$1.$2.want"
	cmp -s "$T/$1.$2.want" "$T/$1.$2" && return 0
	note "$1: $2 differs from what is expected (--- expected, +++ got):"
	diff -a -u "$T/$1.$2.want" "$T/$1.$2" | tail -n +3 | head -n 40 | cut -c1-300 >>"$DETAIL"
	return 1
}

# ------------------------------------------------------------- the cases
# new_case: fresh directories for the current scenario ($FUNCNAME[1]):
#   $C/seed   the starting tree (filled by the scenario, then copied)
#   $P        the plain copy (native run), $V the volume copy (coda-exec run)
#   $K        the venus cache, $SP and $SC host scratch dirs (native, coda)
new_case() {
	C=$CASES/${FUNCNAME[1]}
	rm -rf -- "$C"
	mkdir -p "$C/seed" "$C/scr-plain" "$C/scr-coda"
	chmod 755 "$C" "$C/seed" "$C/scr-plain" "$C/scr-coda"
	P=$C/plain
	V=$C/vol
	K=$C/cache
	SP=$C/scr-plain
	SC=$C/scr-coda
}

# copy_seed: the seed, copied to the plain dir and the volume.
copy_seed() {
	cp -a -- "$C/seed" "$P" && cp -a -- "$C/seed" "$V" || {
		note "copying the seed failed"
		return 1
	}
}

# map_paths IN OUT: the plain dir and the scratch dirs to fixed names.
map_paths() {
	sed -e "s|$(sed_escape "$P")|$MNT|g" -e "s|$(sed_escape "$SP")|/SCR|g" \
		-e "s|$(sed_escape "$SC")|/SCR|g" -e "s|$(sed_escape "$V")|/VOL|g" "$1" >"$2"
}

# run_plain TAG CMD: CMD natively, cwd the plain dir.
run_plain() {
	local tag=$1 cmd=$2
	(cd "$P" && M=$P SCR=$SP timeout -k 5 "$TMO" sh -c 'eval "$1"' sh "$cmd" \
		<"${STDIN:-/dev/null}" >"$T/$tag.out.raw" 2>"$T/$tag.err.raw"
	echo $? >"$T/$tag.rc") 2>/dev/null
	map_paths "$T/$tag.out.raw" "$T/$tag.out"
	map_paths "$T/$tag.err.raw" "$T/$tag.err"
}

# run_coda TAG CMD [OPTIONS...]: CMD under coda-exec, cwd /coda.
run_coda() {
	local tag=$1 cmd=$2
	shift 2
	(M=$MNT SCR=$SC timeout -k 5 "$TMO" "$CODA_EXEC" "$@" --volume "$V" --cache "$K" -- \
		sh -c 'cd /coda && eval "$1"' sh "$cmd" \
		<"${STDIN:-/dev/null}" >"$T/$tag.out.raw" 2>"$T/$tag.err.raw"
	echo $? >"$T/$tag.rc") 2>/dev/null
	drop_sanitizer_notes "$T/$tag.err.raw"
	map_paths "$T/$tag.out.raw" "$T/$tag.out"
	map_paths "$T/$tag.err.raw" "$T/$tag.err"
}

# cx TAG ARGS...: coda-exec ARGS verbatim.
cx() {
	local tag=$1
	shift
	cx_capture "$tag" .raw "$@"
	map_paths "$T/$tag.out.raw" "$T/$tag.out"
	map_paths "$T/$tag.err.raw" "$T/$tag.err"
}

# same_trees [TIMES [EXCLUDE_RE]]: the manifests of the plain dir and of the
# volume must be equal (TIMES as for manifest.py; default none).
same_trees() {
	local times=${1:-none} excl=${2:-}
	"$PY" "$HERE/manifest.py" "$P" "$times" "$excl" >"$T/m.plain" 2>&1
	"$PY" "$HERE/manifest.py" "$V" "$times" "$excl" >"$T/m.vol" 2>&1
	cmp -s "$T/m.plain" "$T/m.vol" && return 0
	note "backing volume differs from the native tree (--- native, +++ volume; $(wc -l <"$T/m.plain") entries natively):"
	diff -a -u "$T/m.plain" "$T/m.vol" | tail -n +3 | grep '^[-+]' | head -n 40 | cut -c1-300 >>"$DETAIL"
	return 1
}

# same_as_native CMD [STATUS [MESSAGE]]: the heart of the suite.  CMD must
# behave natively as declared (exit STATUS, default 0; with status 0 it must
# print something; with MESSAGE, stdout or stderr must contain it) -- so two
# equally broken runs cannot pass -- and coda-exec must match its outputs and
# its tree.  The manifest's TIMES and EXCLUDE_RE come from $MT and $MX.
# RUN_TIMES is set to the wall times of both runs.
same_as_native() {
	local cmd=$1 want=${2:-0} msg=${3:-} ok=0 t0=$EPOCHREALTIME t1
	run_plain plain "$cmd"
	t1=$EPOCHREALTIME
	run_coda coda "$cmd"
	RUN_TIMES=$(awk -v a="$t0" -v b="$t1" -v c="$EPOCHREALTIME" \
		'BEGIN { printf "native %.2f s, coda-exec %.2f s", b - a, c - b }')
	if [ "$(cat "$T/plain.rc")" != "$want" ]; then
		note "reference run in the plain directory exited $(cat "$T/plain.rc"), expected $want:"
		note "  stdout: $(tail -c 600 "$T/plain.out")"
		note "  stderr: $(head -c 800 "$T/plain.err")"
		ok=1
	elif [ "$want" = 0 ] && [ ! -s "$T/plain.out" ]; then
		note "reference run printed nothing"
		ok=1
	elif [ -n "$msg" ] && ! grep -qF -- "$msg" "$T/plain.out" "$T/plain.err"; then
		note "reference output lacks '$msg': $(head -c 400 "$T/plain.err")"
		ok=1
	fi
	same_outputs plain coda "outputs of the command" || ok=1
	same_trees "${MT:-none}" "${MX:-}" || ok=1
	return $ok
}

# The test registry: `t NAME` before each test function adds it to TESTS.
TESTS=()
t() { TESTS+=("$1"); }

# run_timed NAME: run_test NAME (lib.sh); with CODA_E2E_TIMES set, its wall
# time on stderr too.
run_timed() {
	local name=$1 start=$EPOCHREALTIME
	run_test "$name"
	[ -z "${CODA_E2E_TIMES:-}" ] || awk -v a="$start" -v b="$EPOCHREALTIME" -v n="$name" \
		'BEGIN { printf "  (%s: %.1f s)\n", n, b - a }' >&2
}

# run_tests: run_timed each test of TESTS that matches $FILTER (all if empty).
run_tests() {
	local name
	for name in "${TESTS[@]}"; do
		[ -n "$FILTER" ] && ! [[ $name =~ $FILTER ]] && continue
		run_timed "$name"
	done
}

# ------------------------------------------- the source and what it installs

# copy_source DIR: the source tree $SRC, without build dirs or git, into DIR.
copy_source() {
	mkdir "$1" && tar -C "$SRC" --exclude='./build*' --exclude=./.git -cf - . | tar -C "$1" -xf -
}

# header_functions HEADER: the functions codaclient.h (HEADER) declares, one
# a line, sorted.
header_functions() {
	sed -n 's/^[a-zA-Z_ ]*[ *]\(coda_[a-z_]*\)(.*/\1/p' "$1" | sort
}

# coda_cat_reads_a_volume EXAMPLE PC_DIR [PKG_CONFIG_OPTION...]: coda_cat.c
# (EXAMPLE), built as its comment says with the libcodaclient.pc of PC_DIR
# (given the options), loads the library that file names and reads a file
# and 300 kB of random bytes of a fresh volume through $CODA_EXEC --serve,
# byte for byte; the server starts the venus installed beside it.
coda_cat_reads_a_volume() {
	local src=$1 flags lib ok=0
	local -x PKG_CONFIG_PATH=$2 CODA_EXEC_VENUS=
	shift 2
	flags=$(pkg-config "$@" --cflags --libs libcodaclient) &&
		lib=$(pkg-config "$@" --variable=libdir libcodaclient) &&
		cc -o "$T/coda_cat" "$src" $flags 2>>"$DETAIL" || {
		note "coda_cat.c does not build with: ${flags:-}"
		return 1
	}
	# ldd's whole output first: grep -q stops reading at the match, and under
	# pipefail ldd's SIGPIPE would fail the check (an ASan build lists more).
	local loaded
	loaded=$(LD_LIBRARY_PATH=$lib ldd "$T/coda_cat") &&
		grep -qF "$lib/libcodaclient.so.0" <<<"$loaded" || {
		note "coda_cat does not load $lib/libcodaclient.so.0"
		return 1
	}
	new_volume 'read through the installed library\n'
	head -c 300000 /dev/urandom >"$VOL/bytes"
	launch_server --volume "$VOL" --cache "$CACHE" || return 1
	CODA_SOCKET=$SOCK LD_LIBRARY_PATH=$lib timeout 60 "$T/coda_cat" /coda/f.txt /coda/bytes \
		>"$T/cat.out" 2>"$T/cat.err" || {
		note "coda_cat failed: $(head -c 400 "$T/cat.err")"
		ok=1
	}
	stop_server || {
		note "the server: $(head -c 400 "$T/server.err")"
		ok=1
	}
	cmp -s "$T/cat.out" <(cat "$VOL/f.txt" "$VOL/bytes") || {
		note "coda_cat printed $(wc -c <"$T/cat.out") bytes, not the volume's files"
		ok=1
	}
	return $ok
}

# ------------------------------------------- the same again, unprivileged

# nobody_rerun_wanted: true when run as root and not already the nested run.
nobody_rerun_wanted() {
	[ "$(id -u)" = 0 ] && [ -z "${CODA_E2E_NESTED:-}" ]
}

# nobody_prepare FILE...: $N=$WORK/nobody with e2e/ (holding lib.sh,
# manifest.py and the FILEs), bin/ (for copies of the binaries), and home/, tmp/ and run/ for
# the rerun.
nobody_prepare() {
	N=$WORK/nobody
	mkdir -p "$N/e2e" "$N/bin" "$N/home" "$N/tmp" "$N/run"
	cp -- "$HERE/lib.sh" "$HERE/manifest.py" "$@" "$N/e2e/"
}

# nobody_copy_coda_exec: $CODA_EXEC copied to $N/bin/coda-exec, and the
# embedded venus program beside it as in the build tree ($N/venus), where
# the copy finds it as the original does (supervisor/launch.c).
nobody_copy_coda_exec() {
	mkdir -p "$N/venus"
	cp -- "$CODA_EXEC" "$N/bin/coda-exec"
	cp -- "$(dirname -- "$CODA_EXEC")/../venus/coda-venus" "$N/venus/coda-venus"
}

# rerun_as_nobody [VAR=VALUE...] -- SCRIPT ARGS...: make $N readable to all,
# then run bash $N/e2e/SCRIPT ARGS as nobody:nogroup (setpriv, a clean
# environment with its own home and temp dirs, the sanitizer options, the
# filter and timeout, and the VAR=VALUEs), its tests prefixed "nobody:"; its
# counts are added to PASSED and FAILED (one failure if it did not finish).
rerun_as_nobody() {
	local extra=() v np nf
	while [ "$1" != -- ]; do
		extra+=("$1")
		shift
	done
	shift
	local script=$1
	shift
	if [ -n "${CODA_E2E_TESTVENUS:-}" ]; then
		cp -- "$CODA_E2E_TESTVENUS" "$N/bin/testvenus"
		extra+=(CODA_E2E_TESTVENUS="$N/bin/testvenus")
	fi
	chmod -R a+rX "$N"
	chown nobody:nogroup "$N/home" "$N/tmp" "$N/run"
	chmod 700 "$N/run"
	local envs=(HOME="$N/home" TMPDIR="$N/tmp" XDG_RUNTIME_DIR="$N/run"
		XDG_CONFIG_HOME="$N/home/.config" XDG_CACHE_HOME="$N/home/.cache"
		XDG_DATA_HOME="$N/home/.local/share" XDG_STATE_HOME="$N/home/.local/state"
		CODA_E2E_NESTED=1 CODA_E2E_PREFIX=nobody: CODA_E2E_COUNTS="$N/tmp/counts"
		"${extra[@]}" CODA_E2E_FILTER="$FILTER" CODA_E2E_TIMEOUT="$TMO")
	for v in ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS MSAN_OPTIONS MALLOC_PERTURB_; do
		[ -n "${!v:-}" ] && envs+=("$v=${!v}")
	done
	echo "--- rerunning as nobody:nogroup"
	setpriv --reuid=nobody --regid=nogroup --clear-groups --reset-env \
		env "${envs[@]}" bash "$N/e2e/$script" "$@" </dev/null
	if [ -r "$N/tmp/counts" ] && read -r np nf <"$N/tmp/counts"; then
		PASSED=$((PASSED + np))
		FAILED=$((FAILED + nf))
	else
		echo "FAIL nobody:suite_completed"
		FAILED=$((FAILED + 1))
	fi
}

# report_totals: the closing line "N passed, N failed" (a nested run instead
# hands its counts to the outer one through $CODA_E2E_COUNTS); the status is
# non-zero if anything failed.
report_totals() {
	if [ -n "${CODA_E2E_COUNTS:-}" ]; then
		echo "$PASSED $FAILED" >"$CODA_E2E_COUNTS"
		echo "(unprivileged run: $PASSED passed and $FAILED failed, counted in the total below)"
	else
		echo "$PASSED passed, $FAILED failed"
	fi
	[ "$FAILED" = 0 ]
}

# caps_of PID: "CapPrm CapEff" of process PID, as hex.
caps_of() {
	awk '$1 == "CapPrm:" { p = $2 } $1 == "CapEff:" { e = $2 } END { print p, e }' "/proc/$1/status"
}

# caps_kept PRM EFF: "CapPrm CapEff" of a process that keeps, of ours, the
# capabilities of mask PRM, those of EFF in effect.
caps_kept() {
	local prm
	prm=$(awk '$1 == "CapPrm:" { print $2 }' /proc/self/status)
	printf '%016x %016x\n' $((0x$prm & $1)) $((0x$prm & $2))
}

# venus_caps_wanted: what the embedded venus keeps of ours (proto/caps.h
# CAPS_FILES: chown, dac_override, dac_read_search, fowner, fsetid).
venus_caps_wanted() { caps_kept 0x1f 0x1f; }

# supervisor_caps_wanted: what the supervisor of a run keeps of ours once
# the command and venus have started (syscalls/host.c): those five, kill,
# setgid, setuid, sys_ptrace and sys_nice; in effect, kill, sys_ptrace and
# sys_nice.
supervisor_caps_wanted() { caps_kept 0x8800ff 0x880020; }

# ------------------------------------------- a --serve server ($CODA_EXEC)

# launch_server OPTIONS...: coda-exec --serve $SOCK OPTIONS, once its socket
# answers; run under the command SERVER_WRAPPER holds, if any.
SERVER_WRAPPER=()
launch_server() {
	SOCK=$WORK/s.$RANDOM/sock
	make_dirs "$(dirname "$SOCK")"
	"${SERVER_WRAPPER[@]}" "$CODA_EXEC" --serve "$SOCK" "$@" 2>"$T/server.err" &
	SERVER=$!
	for _ in $(seq 100); do
		[ -S "$SOCK" ] && return 0
		sleep 0.05
	done
	note "the server did not make its socket: $(cat "$T/server.err")"
	return 1
}

# stop_server: --stop, and the server reaped; killed if it does not stop
# (a hung server must fail its test, not hang the suite).
stop_server() {
	local rc
	timeout -k 1 20 "$CODA_EXEC" --stop "$SOCK" 2>>"$T/server.err" ||
		kill -KILL "$SERVER" 2>/dev/null
	wait "$SERVER"
	rc=$?
	drop_sanitizer_notes "$T/server.err" # a hosting child's tasks under ASan
	return $rc
}
