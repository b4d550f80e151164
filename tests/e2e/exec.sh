#!/bin/bash
# End-to-end suite for exec of programs stored in /coda.
#
#   tests/e2e/exec.sh CODA_EXEC
#
# Each scenario builds the same seed twice: a plain directory, and a volume
# served by coda-exec at /coda. The command runs natively with $M the plain
# directory (its path mapped to /coda in the outputs) and under coda-exec
# with $M=/coda, both from "cd $M"; stdout, stderr and status must be equal.
# A script whose "#!" names an interpreter inside the tree gets $M there.
# What has no native counterpart (/proc/self/exe, AT_EXECFN) is checked
# against fixed expectations.
#
# Run as root, the suite reruns itself as nobody:nogroup (setpriv) on copies
# of the binaries. Every test prints "PASS name" or "FAIL name"; the last
# line is "N passed, N failed". CODA_E2E_FILTER=REGEX runs only the matching
# tests; CODA_E2E_KEEP=1 keeps the temp dir.
set -uo pipefail

[ $# -eq 1 ] && [ -x "$1" ] || {
	echo "usage: $0 CODA_EXEC" >&2
	exit 2
}
HERE=$(cd -- "$(dirname -- "$0")" && pwd -P)
. "$HERE/lib.sh"
CODA_EXEC=$(realpath -- "$1")
fixed_environment
unset MAKEFLAGS MFLAGS
suite_settings
export PY BUSYBOX
make_workdir coda-e2e-exec
export WORK
T=$WORK/t
SRC=$WORK/src
make_dirs "$T" "$SRC"
init_reporting

# ------------------------------------------------------------ programs
# showargs: argv, one per line. execat: execveat of a dirfd-relative name
# (at DIR NAME) or of an open fd (fd PATH), as fexecve does. whoami:
# argv[0], /proc/self/exe and AT_EXECFN.
cat >"$SRC/showargs.c" <<'EOF'
#include <stdio.h>
int main(int argc, char **argv)
{
	for (int i = 0; i < argc; i++)
		printf("argv[%d]=%s\n", i, argv[i]);
	return 3;
}
EOF
cat >"$SRC/execat.c" <<'EOF'
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	char *args[] = {"named-by-caller", "x y", NULL};
	extern char **environ;
	int fd;

	if (argc != 4)
		return 2;
	if (!strcmp(argv[1], "at")) {
		fd = open(argv[2], O_RDONLY | O_DIRECTORY);
		execveat(fd, argv[3], args, environ, 0);
	} else {
		fd = open(argv[2], O_RDONLY | O_CLOEXEC);
		execveat(fd, "", args, environ, AT_EMPTY_PATH);
	}
	perror("execveat");
	return 1;
}
EOF
cat >"$SRC/whoami.c" <<'EOF'
#include <stdio.h>
#include <sys/auxv.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	exe[n < 0 ? 0 : n] = '\0';
	printf("argv0=%s argc=%d\nexe=%s\nexecfn=%s\n", argv[0], argc, exe,
	       (char *)getauxval(AT_EXECFN));
	return 0;
}
EOF
for p in showargs execat whoami; do
	cc -O1 -o "$SRC/$p" "$SRC/$p.c" 2>"$T/cc.log" || setup_failed "cc $p failed:" "$T/cc.log"
done

# seed DIR MOUNT: the tree every scenario starts from; MOUNT is what "#!"
# lines inside the tree name it by.
seed() {
	local d=$1 m=$2
	mkdir -p "$d/bin" "$d/tools" "$d/sub/deep" "$d/proj"
	cp "$BUSYBOX" "$d/busybox"
	cp "$SRC/showargs" "$SRC/whoami" "$d/bin/"
	cp "$SRC/showargs" "$d/a.out"
	printf '#!/bin/sh\necho "sh: $0 [$*]"\n' >"$d/gen.sh"
	printf '#!/bin/sh -e\necho "sh -e: $0 [$*]"\n' >"$d/bin/flagged"
	printf '#!/usr/bin/python3\nimport sys\nprint("py:", sys.argv)\n' >"$d/py3"
	printf '#!/usr/bin/env python3\nimport sys, os\nprint("env py:", sys.argv, os.getcwd())\n' >"$d/bin/envpy"
	printf '#!/bin/bash\necho "bash: $0 [$*] $BASH_SOURCE"\n' >"$d/bash.sh"
	printf '#!/bin/sh\necho "myinterp: $0 [$*]"\n' >"$d/tools/myinterp"
	printf '#!%s/tools/myinterp\n' "$m" >"$d/viainterp"
	printf '#!%s/bin/showargs opt\n' "$m" >"$d/viaelf"
	printf '#!%s/viainterp\n' "$m" >"$d/nested"
	printf 'LIBV="lib in $(pwd)"\n' >"$d/sub/lib.sh"
	printf '#!/bin/sh\n. "$(dirname "$0")/lib.sh"\necho "$0: $LIBV"\ncd "$(dirname "$0")/deep" && pwd && . ../lib.sh && echo "again: $LIBV"\n' >"$d/sub/run.sh"
	printf '#!/bin/bash\nsource "$(dirname "$0")/lib.sh"\necho "bash $0: $LIBV"\n' >"$d/sub/brun.sh"
	printf 'echo "no #! line: [$*]"\n' >"$d/plain.sh"
	printf 'not runnable\n' >"$d/noexec"
	printf '#!/nonexistent/interp\n' >"$d/badinterp"
	printf '#!/bin/sh\necho "gen $1" > "$1"\n' >"$d/proj/gen.sh"
	printf '#!/bin/sh\necho "tool [$*]"\n' >"$d/proj/tool"
	printf 'all: a.txt b.txt c.txt d.txt\n%%.txt:\n\t./gen.sh $@\nd.txt:\n\t./tool\n\t./gen.sh $@\n' >"$d/proj/Makefile"
	chmod 755 "$d"/gen.sh "$d"/bin/* "$d"/py3 "$d"/bash.sh "$d"/tools/myinterp "$d"/viainterp \
		"$d"/viaelf "$d"/nested "$d"/sub/run.sh "$d"/sub/brun.sh "$d"/plain.sh "$d"/badinterp \
		"$d"/proj/gen.sh "$d"/proj/tool "$d"/a.out
	chmod 644 "$d/noexec"
}

# same_as_native NAME CMD: CMD (sh -c) natively and under coda-exec.
same_as_native() {
	local name=$1 cmd=$2 p=$WORK/$1.plain v=$WORK/$1.vol k=$WORK/$1.cache
	rm -rf "$p" "$v" "$k"
	seed "$p" "$p" && seed "$v" "$MNT" || {
		note "seeding failed"
		return 1
	}
	(cd "$p" && M=$p timeout -k 5 "$TMO" sh -c "$cmd" >"$T/plain.out" 2>"$T/plain.err" </dev/null
		echo $? >"$T/plain.rc")
	M=$MNT cx_capture coda '' --volume "$v" --cache "$k" -- sh -c "cd \"\$M\" && $cmd"
	sed -i "s|$(sed_escape "$p")|$MNT|g" "$T/plain.out" "$T/plain.err"
	if [ ! -s "$T/plain.out" ]; then
		note "reference run printed nothing: $(head -c 400 "$T/plain.err")"
		return 1
	fi
	same_outputs plain coda "outputs of: $cmd"
}

TESTS=()
t() { TESTS+=("$1"); }

# ============================================================== scenarios
t static_busybox_from_coda
static_busybox_from_coda() {
	same_as_native static './busybox echo static; $M/busybox basename $M/sub/x; ./busybox sh -c "echo nested \$0"; ./busybox sh -c "cd sub && ./run.sh"'
}

t dynamic_elf_and_argv0
dynamic_elf_and_argv0() {
	same_as_native dynamic './a.out "a b" c; echo rc=$?; $M/bin/showargs; bin/showargs x; cd bin && ./showargs y'
}

t execvp_through_path_in_coda
execvp_through_path_in_coda() {
	same_as_native path 'PATH=$M/bin:$PATH; showargs p; flagged q; envpy r; env showargs s; busybox_path=$M; command -v showargs'
}

t scripts_with_host_interpreters
scripts_with_host_interpreters() {
	same_as_native hostinterp './gen.sh 1 "2 3"; $M/gen.sh; bin/flagged x; ./py3 a; bin/envpy b; ./bash.sh c; bash -c "./bash.sh d"'
}

t scripts_with_coda_interpreters
scripts_with_coda_interpreters() {
	same_as_native codainterp './viainterp a; ./viaelf b; echo rc=$?; ./nested c; $M/viainterp'
}

t scripts_source_siblings_by_dirname
scripts_source_siblings_by_dirname() {
	same_as_native source 'sub/run.sh; ./sub/run.sh; cd sub && ./run.sh && ./brun.sh; bash -c "./brun.sh"; $M/busybox sh -c "cd $M/sub/deep && ../run.sh"'
}

t make_j2_runs_coda_scripts
make_j2_runs_coda_scripts() {
	same_as_native make 'cd proj && make -s -j2 && cat a.txt b.txt c.txt d.txt && make -s -j2 -B d.txt'
}

t python_subprocess_cwd_in_coda
python_subprocess_cwd_in_coda() {
	same_as_native python '"$PY" -c "
import subprocess, os
m = os.environ[\"M\"]
subprocess.run([\"./gen.sh\", \"x\"], cwd=m, check=True)
subprocess.run([\"./run.sh\"], cwd=m + \"/sub\", check=True)
print(subprocess.run([\"../a.out\", \"y\"], cwd=m + \"/sub\").returncode)
subprocess.run([\"showargs\", \"z\"], env={\"PATH\": m + \"/bin:/usr/bin:/bin\"})
subprocess.run([\"envpy\"], cwd=m + \"/proj\", env={\"PATH\": m + \"/bin:/usr/bin:/bin\"})
"'
}

# vfork (Python's subprocess) shares the caller's memory with its parent,
# which runs on once the exec is done: a /coda program's exec is made again
# pointed at a name below the stack, the caller's string left as it is (its
# rewrite made the parent crash now and then under load, about once in
# 1,000 execs).
t vfork_children_exec_a_coda_script_300_times
vfork_children_exec_a_coda_script_300_times() {
	same_as_native vforks '"$PY" -c "
import subprocess
for i in range(300):
    subprocess.run([\"./gen.sh\", str(i)], check=True, stdout=subprocess.DEVNULL)
print(\"300 runs\")
"'
}

t execveat_and_fexecve
execveat_and_fexecve() {
	cp "$SRC/execat" "$WORK/execat"
	same_as_native execat '$WORK/execat at $M/bin showargs; $WORK/execat at $M ./a.out; $WORK/execat fd $M/bin/showargs x; echo rc=$?'
}

t exec_errors_as_the_kernel
exec_errors_as_the_kernel() {
	same_as_native errors './noexec; echo rc=$?; ./missing; echo rc=$?; ./sub; echo rc=$?; ./badinterp; echo rc=$?; ./plain.sh a; echo rc=$?
		"$PY" -c "
import os
for p in (\"noexec\", \"missing\", \"sub\", \"badinterp\", \"plain.sh\"):
    try:
        os.execv(p, [p])
    except OSError as e:
        print(p, e.errno)
"'
}

t proc_self_exe_and_execfn
proc_self_exe_and_execfn() {
	local v=$WORK/who.vol k=$WORK/who.cache ok=0
	rm -rf "$v" && seed "$v" "$MNT"
	M=$MNT cx_capture who '' --volume "$v" --cache "$k" -- sh -c 'cd /coda/bin && ./whoami a &&
		/coda/busybox readlink /proc/self/exe && /coda/busybox readlink /proc/thread-self/exe &&
		/coda/busybox sh -c "readlink /proc/\$\$/exe"'
	expect_rc who 0 || return 1
	[ "$(grep -c '^/coda/busybox$' "$T/who.out")" = 3 ] || ok=1
	grep -qx 'argv0=./whoami argc=2' "$T/who.out" || ok=1
	grep -qx 'exe=/coda/bin/whoami' "$T/who.out" || ok=1
	grep -qx 'execfn=/dev/fd/[0-9]*' "$T/who.out" || ok=1
	[ $ok = 0 ] || note "unexpected: $(cat "$T/who.out")"
	return $ok
}

t no_fds_leak_into_the_program
no_fds_leak_into_the_program() {
	same_as_native fds 'cd bin && ./showargs $(ls /proc/self/fd | wc -l) >/dev/null; $M/busybox ls /proc/self/fd | wc -l'
}

warn_if_mount_exists
for name in "${TESTS[@]}"; do
	[ -n "$FILTER" ] && ! [[ $name =~ $FILTER ]] && continue
	run_test "$name"
done

if nobody_rerun_wanted; then
	nobody_prepare "$HERE/exec.sh"
	nobody_copy_coda_exec
	rerun_as_nobody -- exec.sh "$N/bin/coda-exec"
fi

report_totals
