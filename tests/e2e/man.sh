#!/bin/bash
# coda-exec(1), coda_open(3) and `meson install`: the page built has every
# section, renders without a warning, documents exactly the options of
# --help and every row of README's differences; coda_open(3), built beside
# it, renders so and names every function of codaclient.h; an install to a
# prefix of one's own, or under a DESTDIR, puts coda-exec, its venus, both
# pages (with coda_open(3)'s links), README.md and the library where they
# go; the installed coda-exec serves a volume with the venus installed beside
# it, and a program built with the installed pkg-config file reads that
# volume through the library. The install tests configure a copy of the
# source tree of their own.
# Run as root, the suite runs again as nobody (lib.sh).
#
#   tests/e2e/man.sh CODA_EXEC PAGE SOURCE_ROOT
#
# Last line "N passed, N failed".
set -uo pipefail

[ $# -eq 3 ] || {
	echo "usage: $0 CODA_EXEC PAGE SOURCE_ROOT" >&2
	exit 2
}
HERE=$(cd -- "$(dirname -- "$0")" && pwd -P)
. "$HERE/lib.sh"
CODA_EXEC=$(realpath -- "$1")
PAGE=$(realpath -- "$2")
LIB_PAGE=$(dirname -- "$PAGE")/coda_open.3
SRC=$(realpath -- "$3")
HEADER=$SRC/client/codaclient.h

suite_start coda-e2e-man

# ---------------------------------------------------------------- the page

t man_page_is_built_with_every_section
man_page_is_built_with_every_section() {
	local s ok=0
	grep -qx '\.TH "coda-exec" "1" .*' "$PAGE" || {
		note "no .TH coda-exec 1"
		ok=1
	}
	for s in NAME SYNOPSIS DESCRIPTION OPTIONS 'EXIT STATUS' ENVIRONMENT FILES \
		'DIFFERENCES FROM A KERNEL CODA MOUNT' EXAMPLES 'SEE ALSO'; do
		grep -qx "\.SH $s" "$PAGE" || {
			note "no section $s"
			ok=1
		}
	done
	if grep -n '@[A-Z]*@' "$PAGE" >>"$DETAIL"; then
		note "a placeholder is left"
		ok=1
	fi
	return $ok
}

# render [PAGE]: the page (default coda-exec(1)) as man shows it (else
# groff) in $T/page.txt, its warnings in $T/page.err; 77 where neither is
# installed.
render() {
	local page=${1:-$PAGE}
	if command -v man >/dev/null; then
		MANWIDTH=80 man --warnings -l "$page" >"$T/page.txt" 2>"$T/page.err"
	elif command -v groff >/dev/null; then
		groff -k -man -Tutf8 -ww "$page" >"$T/page.txt" 2>"$T/page.err"
	else
		note "neither man nor groff here: not rendered"
		return 77
	fi
}

t man_page_renders_without_warnings
# renders_clean PAGE REGEX: PAGE renders with no warning, and REGEX is in
# its text (passes where nothing can render it).
renders_clean() {
	render "$1"
	case $? in
	77) return 0 ;;
	0) ;;
	*) return 1 ;;
	esac
	cat "$T/page.err" >>"$DETAIL"
	[ ! -s "$T/page.err" ] && grep -q -- "$2" "$T/page.txt"
}

man_page_renders_without_warnings() {
	renders_clean "$PAGE" 'DIFFERENCES FROM A KERNEL CODA MOUNT'
}

# README's Markdown is turned into scdoc's markup at build time: none of it
# may reach the reader.
t man_page_shows_no_markdown
man_page_shows_no_markdown() {
	render
	case $? in
	77) return 0 ;;
	0) ;;
	*) return 1 ;;
	esac
	! grep -nE '`|\*\*|\]\(|\\[|*_]' "$T/page.txt" >>"$DETAIL"
}

# options_in help|page: the options --help or the page documents, sorted.
options_in() {
	if [ "$1" = help ]; then
		"$CODA_EXEC" --help >"$T/help.txt" || return 1
		python3 "$HERE/man_options.py" help "$T/help.txt"
	else
		python3 "$HERE/man_options.py" page "$PAGE"
	fi
}

# only_in A B: the options A documents and B does not (coda-exec --help is
# the truth of what options there are); at least ten are found in A.
only_in() {
	local only
	only=$(comm -23 <(options_in "$1") <(options_in "$2"))
	[ -z "$only" ] || {
		note "only in $1: $only"
		return 1
	}
	[ "$(options_in "$1" | wc -l)" -gt 10 ]
}

t every_option_of_help_is_in_the_man_page
every_option_of_help_is_in_the_man_page() { only_in help page; }

t every_option_of_the_man_page_is_in_help
every_option_of_the_man_page_is_in_help() { only_in page help; }

t man_page_has_every_difference_of_readme
man_page_has_every_difference_of_readme() {
	local rows entries
	# The rows of the section's first table, less its header and rule.
	rows=$(sed -n '/^## Differences from a kernel Coda mount$/,$p' "$SRC/README.md" |
		awk '/^\|/ { n++; t = 1; next } t { exit } END { print n - 2 }')
	entries=$(sed -n '/^\.SH DIFFERENCES/,/^\.SH EXAMPLES$/p' "$PAGE" |
		grep -A1 '^\\fB.*\\fR$' | grep -c '^\.RS')
	[ "$rows" -gt 30 ] && [ "$entries" = "$rows" ] || {
		note "README has $rows differences, the page $entries"
		return 1
	}
}

# The names of coda_open(3)'s NAME section, one a line, sorted.
lib_page_names() {
	sed -n '/^\.SH NAME$/,/^\.SH /p' "$LIB_PAGE" | grep -v '^\.' | tr '\n' ' ' |
		sed 's/ *\\*- .*//' | tr -s ', ' '\n' | grep . | sort
}

t library_page_renders_without_warnings
library_page_renders_without_warnings() {
	renders_clean "$LIB_PAGE" '^ERRORS'
}

t library_page_names_every_function_of_the_header
library_page_names_every_function_of_the_header() {
	local s ok=0 diffs
	grep -qx '\.TH "coda_open" "3" .*' "$LIB_PAGE" || {
		note "no .TH coda_open 3"
		ok=1
	}
	for s in NAME LIBRARY SYNOPSIS DESCRIPTION 'RETURN VALUE' ERRORS ENVIRONMENT NOTES \
		EXAMPLES 'SEE ALSO'; do
		grep -qx "\.SH $s" "$LIB_PAGE" || {
			note "no section $s"
			ok=1
		}
	done
	diffs=$(diff <(header_functions "$HEADER") <(lib_page_names)) || {
		note "codaclient.h (<) and the page's NAME (>) differ: $diffs"
		ok=1
	}
	[ "$(header_functions "$HEADER" | wc -l)" -ge 13 ] || {
		note "only $(header_functions "$HEADER" | wc -l) functions found in codaclient.h"
		ok=1
	}
	return $ok
}

# ---------------------------------------------------------------- install

# own_build: $OWN, a copy of the source tree configured by the user the
# suite runs as, with its prefix in a home of its own ($OWN/home/x), as
# `meson setup --prefix=$HOME/x` makes it; only what is installed is built
# (the rest is the other suites'). Made once, at the first install test.
OWN=
own_build() {
	local own
	[ -n "$OWN" ] && return 0
	own=$(mktemp -d "$WORK/own.XXXXXX") && mkdir "$own/home" && copy_source "$own/src" ||
		return 1
	if ! HOME=$own/home meson setup "$own/build" "$own/src" --prefix="$own/home/x" \
		>"$own/setup.log" 2>&1 ||
		! ninja -C "$own/build" supervisor/coda-exec venus/coda-venus docs/coda-exec.1 \
			docs/coda_open.3 \
			client/libcodaclient.a client/libcodaclient.so.0.1.0 \
			>"$own/build.log" 2>&1; then
		tail -20 "$own/setup.log" "$own/build.log" >>"$DETAIL" 2>&1
		return 1
	fi
	OWN=$own
}

# install_to DESTDIR: meson install of $OWN (to its prefix itself when
# DESTDIR is empty); the root the prefix's files are under is in $ROOT.
install_to() {
	local dest=(${1:+--destdir "$1"})
	own_build || return 1
	ROOT=$1$OWN/home/x
	HOME=$OWN/home meson install -C "$OWN/build" --no-rebuild "${dest[@]}" >"$T/install.log" 2>&1 || {
		tail -5 "$T/install.log" >>"$DETAIL"
		return 1
	}
}

# installed: the program, its venus, the two pages (coda_open(3) with a
# link for each other function of the header), README.md and the library
# are under $ROOT, as built.
installed() {
	local ok=0 f man3=$ROOT/share/man/man3
	[ -x "$ROOT/bin/coda-exec" ] || { note "no $ROOT/bin/coda-exec"; ok=1; }
	[ -x "$ROOT/libexec/coda-exec/coda-venus" ] || { note "no $ROOT/libexec/coda-exec/coda-venus"; ok=1; }
	cmp -s "$ROOT/share/man/man1/coda-exec.1" "$OWN/build/docs/coda-exec.1" ||
		{ note "no $ROOT/share/man/man1/coda-exec.1"; ok=1; }
	cmp -s "$ROOT/share/doc/coda-exec/README.md" "$SRC/README.md" ||
		{ note "no $ROOT/share/doc/coda-exec/README.md"; ok=1; }
	cmp -s "$man3/coda_open.3" "$OWN/build/docs/coda_open.3" ||
		{ note "no $man3/coda_open.3"; ok=1; }
	for f in $(header_functions "$HEADER" | grep -vx coda_open); do
		[ "$(readlink "$man3/$f.3")" = coda_open.3 ] || { note "no link $man3/$f.3"; ok=1; }
	done
	for f in include/codaclient.h "lib/*/libcodaclient.so" "lib/*/libcodaclient.a" \
		"lib/*/pkgconfig/libcodaclient.pc"; do
		compgen -G "$ROOT/$f" >/dev/null || { note "no $ROOT/$f"; ok=1; }
	done
	return $ok
}

t meson_install_puts_program_venus_page_and_readme_in_the_prefix
meson_install_puts_program_venus_page_and_readme_in_the_prefix() {
	install_to "" && installed
}

t meson_install_with_destdir_puts_them_under_destdir
meson_install_with_destdir_puts_them_under_destdir() {
	install_to "$(mktemp -d "$WORK/dest.XXXXXX")" && installed
}

# The installed coda-exec finds the venus installed beside it (bindir to
# libexecdir): the build tree's is not there to fall back on.
t installed_coda_exec_serves_a_volume_with_its_installed_venus
installed_coda_exec_serves_a_volume_with_its_installed_venus() {
	local out
	install_to "$(mktemp -d "$WORK/dest.XXXXXX")" || return 1
	new_volume 'served by the installed venus\n'
	out=$(env -u CODA_EXEC_VENUS "$ROOT/bin/coda-exec" --volume "$VOL" --cache "$CACHE" \
		-- cat /coda/f.txt 2>&1)
	[ "$out" = "served by the installed venus" ] || {
		note "got: $out"
		return 1
	}
}

# man-db looks for pages beside the programs on PATH (BIN/../share/man).
t man_finds_the_installed_page_from_path
man_finds_the_installed_page_from_path() {
	local found
	command -v man >/dev/null || {
		note "no man here"
		return 0
	}
	install_to "$(mktemp -d "$WORK/dest.XXXXXX")" || return 1
	found=$(PATH=$ROOT/bin:$PATH env -u MANPATH man -w coda-exec 2>&1)
	[ "$found" = "$ROOT/share/man/man1/coda-exec.1" ] || {
		note "man -w coda-exec: $found"
		return 1
	}
}

# The example program built with the pkg-config file of an install to a
# prefix of one's own reads a volume through the installed coda-exec.
t installed_pkg_config_file_builds_coda_cat_that_reads_the_volume
installed_pkg_config_file_builds_coda_cat_that_reads_the_volume() {
	local CODA_EXEC pc
	install_to "" || return 1
	CODA_EXEC=$ROOT/bin/coda-exec
	pc=$(compgen -G "$ROOT/lib/*/pkgconfig/libcodaclient.pc") || {
		note "no libcodaclient.pc under $ROOT/lib"
		return 1
	}
	coda_cat_reads_a_volume "$ROOT/share/doc/coda-exec/examples/coda_cat.c" "$(dirname -- "$pc")"
}

run_tests

if nobody_rerun_wanted; then
	nobody_prepare "$HERE/man.sh" "$HERE/man_options.py"
	nobody_copy_coda_exec
	cp -- "$PAGE" "$N/bin/coda-exec.1"
	cp -- "$LIB_PAGE" "$N/bin/coda_open.3"
	copy_source "$N/src"
	rerun_as_nobody -- man.sh "$N/bin/coda-exec" "$N/bin/coda-exec.1" "$N/src"
fi
report_totals
