#!/bin/bash
# coda-exec(1) and `meson install`: the page built has every section, renders
# without a warning, documents exactly the options of --help and every row of
# README's differences; an install to a prefix of one's own, or under a
# DESTDIR, puts coda-exec, its venus, the page and README.md where they go,
# and the installed coda-exec serves a volume with the venus installed beside
# it. The install tests configure a copy of the source tree of their own; as
# root, they run again as nobody.
#
#   tests/man/run.sh CODA_EXEC PAGE SOURCE_ROOT
#
# Last line "N passed, N failed".
set -uo pipefail

[ $# -eq 3 ] || {
	echo "usage: $0 CODA_EXEC PAGE SOURCE_ROOT" >&2
	exit 2
}
CODA_EXEC=$(realpath -- "$1")
PAGE=$(realpath -- "$2")
SRC=$(realpath -- "$3")
HERE=$(dirname -- "$(realpath -- "$0")")
PASSED=0
FAILED=0
T=$(mktemp -d)
trap 'rm -rf -- "$T"' EXIT
chmod 755 "$T"
AS=()

check() { # NAME: runs test_NAME in a fresh scratch dir
	local dir
	dir=$(mktemp -d "$T/s.XXXXXX")
	chmod 777 "$dir"
	if (cd "$dir" && "test_$1" "$dir"); then
		echo "ok: $1${AS:+ (as nobody)}"
		PASSED=$((PASSED + 1))
	else
		echo "FAIL: $1${AS:+ (as nobody)}"
		FAILED=$((FAILED + 1))
	fi
}

# ---------------------------------------------------------------- the page

test_man_page_is_built_with_every_section() {
	local s missing=0
	grep -qx '\.TH "coda-exec" "1" .*' "$PAGE" || {
		echo "  no .TH coda-exec 1 in $PAGE"
		return 1
	}
	for s in NAME SYNOPSIS DESCRIPTION OPTIONS 'EXIT STATUS' ENVIRONMENT FILES \
		'DIFFERENCES FROM A KERNEL CODA MOUNT' EXAMPLES 'SEE ALSO'; do
		grep -qx "\.SH $s" "$PAGE" || {
			echo "  no section $s"
			missing=1
		}
	done
	! grep -n '@[A-Z]*@' "$PAGE" && [ "$missing" = 0 ]
}

# render OUT: the page as man shows it (else groff), its warnings on
# stderr; 77 where neither is installed
render() {
	if command -v man >/dev/null; then
		MANWIDTH=80 "${AS[@]}" man --warnings -l "$PAGE" >"$1"
	elif command -v groff >/dev/null; then
		"${AS[@]}" groff -k -man -Tutf8 -ww "$PAGE" >"$1"
	else
		echo "  neither man nor groff here: not rendered" >&2
		return 77
	fi
}

test_man_page_renders_without_warnings() {
	local out rc
	out=$(render "$1/page.txt" 2>&1)
	rc=$?
	[ "$rc" = 77 ] && return 0
	[ "$rc" = 0 ] && [ -z "$out" ] || {
		printf '  %s\n' "$out"
		return 1
	}
	grep -q 'DIFFERENCES FROM A KERNEL CODA MOUNT' "$1/page.txt"
}

# README's Markdown is turned into scdoc's markup at build time: none of it
# may reach the reader.
test_man_page_shows_no_markdown() {
	render "$1/page.txt" 2>/dev/null
	[ $? = 77 ] && return 0
	! grep -nE '`|\*\*|\]\(|\\[|*_]' "$1/page.txt" | head -5 | grep .
}

# coda-exec --help is the truth of what options there are.
options_of() { # help|page
	if [ "$1" = help ]; then
		"${AS[@]}" "$CODA_EXEC" --help >"$T/help.txt" || return 1
		python3 "$HERE/options.py" help "$T/help.txt"
	else
		python3 "$HERE/options.py" page "$PAGE"
	fi
}

test_every_option_of_help_is_in_the_man_page() {
	local missing
	missing=$(LC_ALL=C comm -23 <(options_of help) <(options_of page))
	[ -z "$missing" ] || {
		printf '  not in the page: %s\n' "$missing"
		return 1
	}
	[ "$(options_of help | wc -l)" -gt 10 ]
}

test_every_option_of_the_man_page_is_in_help() {
	local extra
	extra=$(LC_ALL=C comm -13 <(options_of help) <(options_of page))
	[ -z "$extra" ] || {
		printf '  not in --help: %s\n' "$extra"
		return 1
	}
	[ "$(options_of page | wc -l)" -gt 10 ]
}

test_man_page_has_every_difference_of_readme() {
	local rows entries
	# The rows of the section's first table, less its header and rule.
	rows=$(sed -n '/^## Differences from a kernel Coda mount$/,$p' "$SRC/README.md" |
		awk '/^\|/ { n++; t = 1; next } t { exit } END { print n - 2 }')
	entries=$(sed -n '/^\.SH DIFFERENCES/,/^\.SH EXAMPLES$/p' "$PAGE" |
		grep -A1 '^\\fB.*\\fR$' | grep -c '^\.RS')
	[ "$rows" -gt 30 ] && [ "$entries" = "$rows" ] || {
		echo "  README has $rows differences, the page $entries"
		return 1
	}
}

# ---------------------------------------------------------------- install

# A copy of the source tree configured by the user the tests run as, with
# its prefix in a home of its own, as `meson setup --prefix=$HOME/x` makes
# it; only the installed targets are built (the rest is the other suites').
# Made once for the install tests, outside their subshells; OWN stays empty
# if it fails, and they fail.
own_build() {
	local own
	OWN=
	own=$(mktemp -d "$T/own.XXXXXX") && chmod 777 "$own" || return 1
	"${AS[@]}" mkdir "$own/src" "$own/home" &&
		tar -C "$SRC" --exclude='./build*' --exclude=./.git -cf - . |
		"${AS[@]}" tar -C "$own/src" -xf - || return 1
	HOME=$own/home "${AS[@]}" meson setup "$own/build" "$own/src" --prefix="$own/home/x" \
		>"$own/setup.log" 2>&1 &&
		"${AS[@]}" ninja -C "$own/build" supervisor/coda-exec venus/coda-venus \
			docs/coda-exec.1 >"$own/build.log" 2>&1 || {
		tail -20 "$own/setup.log" "$own/build.log" 2>/dev/null
		return 1
	}
	OWN=$own
}

installed_in() { # ROOT: the four installed files are there, as built
	local root=$1 ok=0
	[ -x "$root/bin/coda-exec" ] || { echo "  no $root/bin/coda-exec"; ok=1; }
	[ -x "$root/libexec/coda-venus" ] || { echo "  no $root/libexec/coda-venus"; ok=1; }
	cmp -s "$root/share/man/man1/coda-exec.1" "$OWN/build/docs/coda-exec.1" ||
		{ echo "  no $root/share/man/man1/coda-exec.1"; ok=1; }
	cmp -s "$root/share/doc/coda-exec/README.md" "$SRC/README.md" ||
		{ echo "  no $root/share/doc/coda-exec/README.md"; ok=1; }
	return $ok
}

test_meson_install_puts_program_venus_page_and_readme_in_the_prefix() {
	[ -n "$OWN" ] || return 1
	HOME=$OWN/home "${AS[@]}" meson install -C "$OWN/build" --no-rebuild >"$1/log" 2>&1 ||
		{ tail -5 "$1/log"; return 1; }
	installed_in "$OWN/home/x"
}

test_meson_install_with_destdir_puts_them_under_destdir() {
	[ -n "$OWN" ] || return 1
	HOME=$OWN/home "${AS[@]}" meson install -C "$OWN/build" --no-rebuild --destdir "$1/dest" \
		>"$1/log" 2>&1 || { tail -5 "$1/log"; return 1; }
	installed_in "$1/dest$OWN/home/x"
}

# The installed coda-exec finds the venus installed beside it (bindir to
# libexecdir): the build tree's is not there to fall back on.
test_installed_coda_exec_serves_a_volume_with_its_installed_venus() {
	local out
	[ -n "$OWN" ] || return 1
	HOME=$OWN/home "${AS[@]}" meson install -C "$OWN/build" --no-rebuild --destdir "$1/dest" \
		>"$1/log" 2>&1 || return 1
	mkdir "$1/vol" "$1/cache" && echo "served by the installed venus" >"$1/vol/f" &&
		chmod 777 "$1/vol" "$1/cache" || return 1
	out=$(env -u CODA_EXEC_VENUS "${AS[@]}" "$1/dest$OWN/home/x/bin/coda-exec" \
		--volume "$1/vol" --cache "$1/cache" -- cat /coda/f 2>&1)
	[ "$out" = "served by the installed venus" ] || {
		echo "  got: $out"
		return 1
	}
}

# man-db looks for pages beside the programs on PATH (BIN/../share/man).
test_man_finds_the_installed_page_from_path() {
	local prefix
	command -v man >/dev/null || {
		echo "  no man here"
		return 0
	}
	[ -n "$OWN" ] || return 1
	HOME=$OWN/home "${AS[@]}" meson install -C "$OWN/build" --no-rebuild --destdir "$1/dest" \
		>"$1/log" 2>&1 || return 1
	prefix=$1/dest$OWN/home/x
	[ "$(PATH=$prefix/bin:$PATH env -u MANPATH "${AS[@]}" man -w coda-exec)" = \
		"$prefix/share/man/man1/coda-exec.1" ]
}

all() {
	own_build
	for t in $(declare -F | sed -n 's/^declare -f test_//p'); do
		check "$t"
	done
}
all
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	# nobody may not reach the build tree: a copy of the page and the
	# program, and an own build of a copy of the source tree.
	cp "$CODA_EXEC" "$T/coda-exec" && cp "$PAGE" "$T/coda-exec.1" &&
		chmod 755 "$T/coda-exec" && chmod 644 "$T/coda-exec.1"
	CODA_EXEC=$T/coda-exec PAGE=$T/coda-exec.1
	AS=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
	all
fi
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
