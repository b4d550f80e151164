#!/bin/bash
# The Debian packages as a user builds and installs them: dpkg-buildpackage
# -us -uc -b on a copy of the source tree (by nobody when run as root, as
# packages are built: with no privilege), lintian with no error or warning,
# and the three packages unpacked with dpkg -x into a root of the suite's
# own, never onto the system: each holds exactly its files, the library
# imports no exit, apt would install them with what they depend on, man
# finds every page name, and coda_cat.c built with the -dev package's
# pkg-config file reads a volume through the unpacked coda-exec --serve,
# byte for byte.
#
#   tests/e2e/package.sh SOURCE_ROOT      build, then test the packages
#   tests/e2e/package.sh --debs DIR       test the packages in DIR
#
# Run as root, the tests of the packages run again as nobody (lib.sh), on
# the packages built once. dpkg-buildpackage, lintian and apt-get missing:
# the suite says so and is skipped (77); quickstart.sh installs them. Last
# line "N passed, N failed".
set -uo pipefail

if ! { [ $# = 1 ] && [ "${1#-}" = "$1" ]; } && ! { [ $# = 2 ] && [ "$1" = --debs ]; }; then
	echo "usage: $0 SOURCE_ROOT | --debs DIR" >&2
	exit 2
fi
HERE=$(cd -- "$(dirname -- "$0")" && pwd -P)
. "$HERE/lib.sh"

for tool in dpkg-buildpackage dh lintian apt-get dpkg-architecture pkg-config cc; do
	command -v "$tool" >/dev/null || {
		echo "no $tool here: install debhelper, lintian, dpkg-dev, fakeroot (quickstart.sh does)"
		exit 77
	}
done
MULTIARCH=$(dpkg-architecture -qDEB_HOST_MULTIARCH) || exit 125

suite_start coda-e2e-package

# ---------------------------------------------------------------- the build

# as_builder CMD...: CMD in $PKG/src as the user who builds: nobody when the
# suite runs as root, else the suite's user; its home is $PKG/home.
as_builder() {
	local envs=(HOME="$PKG/home" TMPDIR="$PKG/home" PATH="$PATH" LC_ALL=C)
	if [ "$(id -u)" = 0 ]; then
		(cd "$PKG/src" && setpriv --reuid=nobody --regid=nogroup --clear-groups \
			--reset-env env "${envs[@]}" "$@" </dev/null)
	else
		(cd "$PKG/src" && env "${envs[@]}" "$@" </dev/null)
	fi
}

if [ "$1" = --debs ]; then
	DEBS=$(realpath -- "$2")
else
	SRC=$(realpath -- "$1")
	PKG=$WORK/pkg
	DEBS=$PKG
	make_dirs "$PKG" "$PKG/home"
	copy_source "$PKG/src" || setup_failed "copying the source tree failed" /dev/null
	[ "$(id -u)" = 0 ] && chown -R nobody:nogroup "$PKG"
fi

# The package files of the build, or a note that one is missing.
debs() {
	local p f ok=0
	for p in coda-exec libcodaclient0 libcodaclient-dev; do
		f=$(compgen -G "$DEBS/${p}_*.deb") || {
			note "no ${p}_*.deb in $DEBS"
			ok=1
			continue
		}
		echo "$f"
	done
	return $ok
}

t packages_build_from_a_copy_of_the_source
packages_build_from_a_copy_of_the_source() {
	as_builder dpkg-buildpackage -us -uc -b >"$T/build.log" 2>&1 || {
		note "dpkg-buildpackage failed:"
		tail -25 "$T/build.log" >>"$DETAIL"
		return 1
	}
	debs >/dev/null
}

t lintian_finds_no_error_or_warning
lintian_finds_no_error_or_warning() {
	local changes
	changes=$(compgen -G "$PKG/coda-exec_*.changes") || {
		note "no .changes: the build failed"
		return 1
	}
	as_builder lintian --fail-on error,warning "$changes" >"$T/lintian.log" 2>&1 || {
		note "lintian --fail-on error,warning $changes:"
		head -30 "$T/lintian.log" >>"$DETAIL"
		return 1
	}
}

# Only the outer run builds.
[ "$1" = --debs ] && TESTS=()

# ---------------------------------------------------------------- unpacked

# unpacked: the three packages unpacked into $ROOT, once.
ROOT=
unpacked() {
	local f list
	[ -n "$ROOT" ] && return 0
	list=$(debs) || return 1
	make_dirs "$WORK/root"
	for f in $list; do
		dpkg -x "$f" "$WORK/root" || {
			note "dpkg -x $f failed"
			return 1
		}
	done
	ROOT=$WORK/root
}

# expected_files PACKAGE: what PACKAGE must hold, as `dpkg-deb -c` shows
# its files and links, sorted.
expected_files() {
	local lib=./usr/lib/$MULTIARCH f
	case $1 in
	coda-exec)
		printf '%s\n' ./usr/bin/coda-exec ./usr/libexec/coda-exec/coda-venus \
			./usr/share/man/man1/coda-exec.1.gz \
			./usr/share/doc/coda-exec/{ARCHITECTURE.md.gz,README.md.gz,changelog.gz,copyright}
		;;
	libcodaclient0)
		printf '%s\n' "$lib/libcodaclient.so.0.1.0" \
			"$lib/libcodaclient.so.0 -> libcodaclient.so.0.1.0" \
			./usr/share/doc/libcodaclient0/{changelog.gz,copyright}
		;;
	libcodaclient-dev)
		printf '%s\n' ./usr/include/codaclient.h "$lib/libcodaclient.a" \
			"$lib/libcodaclient.so -> libcodaclient.so.0" "$lib/pkgconfig/libcodaclient.pc" \
			./usr/share/man/man3/coda_open.3.gz \
			./usr/share/doc/libcodaclient-dev/{changelog.gz,copyright,examples/coda_cat.c}
		# a link for each other function of the header it holds
		for f in $(header_functions "$ROOT/usr/include/codaclient.h" | grep -vx coda_open); do
			echo "./usr/share/man/man3/$f.3.gz -> coda_open.3.gz"
		done
		;;
	esac | sort
}

t each_package_holds_exactly_its_files
each_package_holds_exactly_its_files() {
	local p f ok=0
	unpacked || return 1
	for p in coda-exec libcodaclient0 libcodaclient-dev; do
		f=$(compgen -G "$DEBS/${p}_*.deb")
		dpkg-deb -c "$f" | awk '$1 !~ /^d/ { $1 = $2 = $3 = $4 = $5 = ""; sub(/^ +/, ""); print }' |
			sort >"$T/$p.files"
		expected_files "$p" >"$T/$p.want"
		cmp -s "$T/$p.want" "$T/$p.files" || {
			note "$p (--- expected, +++ in the package):"
			diff -u "$T/$p.want" "$T/$p.files" | tail -n +3 >>"$DETAIL"
			ok=1
		}
	done
	[ "$(wc -l <"$T/libcodaclient-dev.want")" -ge 20 ] || {
		note "the unpacked header names too few functions"
		ok=1
	}
	return $ok
}

# The library never ends its user's program: it imports no exit, which
# uthash's fatal no-memory path did (lintian's experimental tag
# exit-in-shared-library).
t library_imports_no_exit
library_imports_no_exit() {
	local found
	unpacked || return 1
	found=$(nm -D --undefined-only "$ROOT/usr/lib/$MULTIARCH/libcodaclient.so.0.1.0" |
		awk '$2 ~ /^(exit|_exit|_Exit)(@|$)/ { print $2 }')
	[ -z "$found" ] || {
		note "libcodaclient.so imports $found: it can end its user's program"
		return 1
	}
}

# apt's simulation of an install of the three files: their dependencies
# are found on this system or its archive, and nothing conflicts.
t packages_install_with_their_dependencies
packages_install_with_their_dependencies() {
	local list
	list=$(debs) || return 1
	apt-get install --simulate --no-install-recommends $list >"$T/apt.log" 2>&1 || {
		note "apt-get install --simulate:"
		tail -15 "$T/apt.log" >>"$DETAIL"
		return 1
	}
	[ "$(grep -cE '^Inst (coda-exec|libcodaclient0|libcodaclient-dev) ' "$T/apt.log")" = 3 ] || {
		note "apt would not install the three packages:"
		grep '^Inst' "$T/apt.log" | head >>"$DETAIL"
		return 1
	}
}

# man finds both pages, and coda_open(3) by each of its names (through
# the links, which man -w resolves), in the unpacked tree; the pages render
# without a warning.
t man_finds_every_page_name_in_the_packages
man_finds_every_page_name_in_the_packages() {
	local f found ok=0 mandir
	unpacked || return 1
	mandir=$ROOT/usr/share/man
	for f in coda-exec $(header_functions "$ROOT/usr/include/codaclient.h"); do
		found=$(env -u MANPATH man -M "$mandir" -w "$f" 2>&1)
		case $f:$found in
		"coda-exec:$mandir/man1/coda-exec.1.gz" | "coda_"*":$mandir/man3/coda_open.3.gz") ;;
		*)
			note "man -w $f: $found"
			ok=1
			;;
		esac
	done
	for f in "$ROOT/usr/share/man/man1/coda-exec.1.gz" "$ROOT/usr/share/man/man3/coda_open.3.gz"; do
		MANWIDTH=80 man --warnings -l "$f" >/dev/null 2>"$T/man.err" && [ ! -s "$T/man.err" ] || {
			note "man -l $f: $(head -c 400 "$T/man.err")"
			ok=1
		}
	done
	return $ok
}

# coda_cat.c of the -dev package, built with its pkg-config file (the
# unpacked root as the prefix: pkg-config's --define-prefix does not see
# through the multiarch libdir) against its library, reads a volume through
# the unpacked coda-exec --serve and the venus unpacked beside it.
t coda_cat_built_with_the_dev_package_reads_the_volume_through_the_packaged_server
coda_cat_built_with_the_dev_package_reads_the_volume_through_the_packaged_server() {
	local CODA_EXEC
	unpacked || return 1
	CODA_EXEC=$ROOT/usr/bin/coda-exec
	coda_cat_reads_a_volume "$ROOT/usr/share/doc/libcodaclient-dev/examples/coda_cat.c" \
		"$ROOT/usr/lib/$MULTIARCH/pkgconfig" --define-variable=prefix="$ROOT/usr"
}

run_tests

if nobody_rerun_wanted; then
	nobody_prepare "$HERE/package.sh"
	mkdir "$N/debs"
	list=$(debs) && cp -- $list "$N/debs/" # else each test says what is missing
	rerun_as_nobody -- package.sh --debs "$N/debs"
fi
report_totals
