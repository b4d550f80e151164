#!/usr/bin/env python3
"""report.py WORK OUT KEY=VALUE...: bench/run.sh's results as tables.

Reads what run.sh left in WORK/res (hyperfine JSON, micro lines, fio
bandwidths, coda-exec --stats logs), prints the tables and writes them to
OUT, headed with the machine and the commit (the KEY=VALUE arguments).
Every cell is a median with its ratio to native; a target of issue 14 is
written out with pass or miss beside what it is about.
"""
import os
import re
import statistics
import sys

WORK, OUT = sys.argv[1], sys.argv[2]
INFO = dict(a.split("=", 1) for a in sys.argv[3:])
RES = os.path.join(WORK, "res")
VOL = os.path.join(WORK, "vol")
WRONG = set(open(os.path.join(RES, "wrong")).read().split())
COLUMNS = ["native", "coda", "coda2", "stage2", "proot", "bindfs", "floor"]
SERVE_WORKLOADS = ["find_ls", "git_status", "py_import"]
HEADS = ["native", "coda-exec, first run", "coda-exec, second pass",
         "coda-exec `--stage`, second pass", "PRoot `-b`", "bindfs (FUSE)", "floor"]
ABSENT = {"proot": "no proot" if INFO.get("proot") != "1" else None,
          "bindfs": "no /dev/fuse" if INFO.get("bindfs") != "1" else None}
verdicts = []


def path(name):
    return os.path.join(RES, name)


def seconds(name):
    """The median of a result's runs (seconds, or B/s for fio), one a line;
    None if it failed or was not run."""
    if os.path.exists(path(name + ".txt")) and not os.path.exists(path(name + ".failed")):
        values = [float(x) for x in open(path(name + ".txt")).read().split()]
        return statistics.median(values) if values else None
    return None


def ms(t):
    t *= 1e3
    return "%.0f ms" % t if t >= 100 else "%.1f ms" % t if t >= 10 else "%.2f ms" % t


def ratio(x):
    return "%.1fx" % x if x >= 10 else "%.2fx" % x


def verdict(ok, text):
    verdicts.append(ok)
    return "%s: **%s**" % (text, "pass" if ok else "miss")


def missing_cell(name, col):
    """Why a cell has no time: no such anchor here, not measured (fio with
    the stage), a wrong answer under coda-exec, or the command's exit status
    in hyperfine's log."""
    if ABSENT.get(col):
        return ABSENT[col]
    if col == "stage2" and name.startswith("fio_"):
        return "-"
    if col in ("coda", "coda2", "stage2") and name in WRONG:
        return "wrong answer"
    log = path("%s.%s.log" % (name, col))
    m = re.search(r"non-zero exit code: (\d+)", open(log).read()) if os.path.exists(log) else None
    return "fails (exit %s)" % m.group(1) if m else "failed"


def workloads():
    return [("find_ls", "`find -ls`, %s files" % INFO["files"]),
            ("stat", "`stat` of %s files" % INFO["files"]),
            ("ls_l", "`ls -l` of a %s-entry directory" % INFO["files"]),
            ("git_status", "`git status`, %s-file repository" % INFO["tree"]),
            ("tar_c", "`tar c` of %s files" % INFO["tree"]),
            ("tar_x", "`tar x` of %s files" % INFO["tree"]),
            ("make", "`make -j2`, %s C files" % INFO["sources"]),
            ("py_import", "python3 importing %s modules" % INFO["modules"]),
            ("host_cc", "`cc` outside /coda (host only)")]


def time_cells(name, columns, why_missing=missing_cell):
    """A row's times, each with its ratio to native, or why it has none."""
    t = {c: seconds("%s.%s" % (name, c)) for c in columns}
    base = t["native"]
    cells = []
    for c in columns:
        if t[c] is None:
            cells.append(why_missing(name, c))
        else:
            cells.append("%s (%s)" % (ms(t[c]), ratio(t[c] / base) if base else "-"))
    return t, cells


def workload_rows():
    rows = []
    for name, label in workloads():
        t, cells = time_cells(name, COLUMNS)
        base = t["native"]
        goals = []
        if name == "host_cc" and t["coda"] and base:
            goals.append(verdict(t["coda"] / base <= 1.3, "<= 1.3x native"))
        if t["coda"] and t["proot"]:
            goals.append(verdict(t["proot"] / t["coda"] >= 3,
                                 ">= 3x faster than PRoot (%.1fx)" % (t["proot"] / t["coda"])))
        if name in ("find_ls", "git_status", "tar_c") and t["coda2"] and t["floor"]:
            goals.append(verdict(t["coda2"] / t["floor"] <= 1.3,
                                 "second pass <= 1.3x floor (%.2fx)" % (t["coda2"] / t["floor"])))
            if t["stage2"]:  # opt-in: shown, not counted in the summary
                goals[-1] += "; `--stage`: %.2fx: **%s**" % (
                    t["stage2"] / t["floor"], "pass" if t["stage2"] / t["floor"] <= 1.3 else "miss")
        rows.append([label] + cells + ["; ".join(goals) or "-"])
    for job, label in (("seq", "fio sequential 4 KiB reads"), ("rand", "fio random 4 KiB reads")):
        bw = {c: seconds("fio_%s.%s" % (job, c)) for c in COLUMNS}
        base = bw["native"]
        cells = []
        for c in COLUMNS:
            if bw[c] is None:
                cells.append(missing_cell("fio_" + job, c))
            else:
                cells.append("%.0f MB/s (%s)" % (bw[c] / 1e6, ratio(bw[c] / base) if base else "-"))
        goal = "-"
        # fio's time includes its open, and a first open on a fresh cache
        # fetches the whole file: the data path itself is the second pass's.
        if bw["coda2"] and base:
            goal = verdict(bw["coda2"] / base >= 0.95, "second pass >= 0.95 native")
        rows.append(["%s, %s MiB" % (label, INFO["fio_mb"])] + cells + [goal])
    return rows


def serve_rows():
    """One venus for many jobs: a first job through a fresh server and a
    second through a warm one, beside native and a run with its own venus
    (its first run and its second pass)."""
    def why(name, col):
        workload = name.split(".", 1)[1]
        wrong = workload if col in ("coda", "coda2") else "serve_" + workload
        return "wrong answer" if wrong in WRONG else missing_cell(name, col)

    def over(t, a, b):
        return ratio(t[a] / t[b]) if t[a] and t[b] else "-"

    rows = []
    for name, label in workloads():
        if name in SERVE_WORKLOADS:
            t, cells = time_cells("serve." + name,
                                  ["native", "coda", "coda2", "first", "second"], why)
            rows.append([label] + cells + [over(t, "second", "first"), over(t, "second", "coda2")])
    return rows


def serve_section():
    return ["## One venus for many jobs", "",
            "Each job is `coda-exec --attach` to one `coda-exec --serve`; the second job's "
            "server has served the same workload to a first job.", "",
            "n/a: this coda-exec has no `--serve`." if os.path.exists(path("serve.none")) else
            table(["workload", "native", "own venus, first run",
                   "own venus, second pass inside the run", "first job through a server",
                   "second job through a warm server", "second job / first job",
                   "second job / second pass"], serve_rows()), ""]


def header():
    return ["# coda-exec benchmark results", "",
            "`bench/run.sh` on Linux %s, %s CPUs (%s), %s memory; %s; commit %s; the run "
            "took %s s. Each cell is the median of %s runs (3 where a run takes a second or "
            "more; per call: of %s batches of %s calls) and its ratio to native. See bench/README.md for what each column is."
            % (INFO["kernel"], INFO["cpus"], INFO["cpu"], INFO["memory"], INFO["date"],
               INFO["commit"], INFO["seconds"], INFO["runs"], INFO["batches"], INFO["n"]), ""]


def micro(col):
    lines = {}
    if os.path.exists(path("micro.%s.txt" % col)):
        for line in open(path("micro.%s.txt" % col)):
            name, median = line.split()[:2]
            lines[name] = float(median)
    return lines


def us(x):
    return "%.1f us" % x


def stats(name):
    """kind -> name -> (count, p50, p99) from a --stats log, or None."""
    p = path(name + ".stats")
    if not os.path.exists(p):
        return None
    out = {}
    for line in open(p):
        m = re.match(r"coda-exec: stats: (\S+) (\S+) (\S+) (\S+) (\S+)$", line.strip())
        if m and m.group(1) != "kind":
            kind, what, count, p50, p99 = m.groups()
            num = lambda v: None if v == "-" else float(v)
            out.setdefault(kind, {})[what] = (num(count), num(p50), num(p99))
    return out


def micro_rows():
    cols = ("native", "coda", "stage", "floor", "proot", "bindfs")
    mc = {c: micro(c) for c in cols}
    r = micro("rtt").get("rtt")
    nat, flo = mc["native"], mc["floor"]
    f = flo["lstat-host"] - nat["lstat-host"] if "lstat-host" in flo and "lstat-host" in nat else None
    rows = [["R: SOCK_SEQPACKET round trip", us(r) if r else "failed", "-", "-", "-", "-", "-",
             "-"],
            ["F: notify round trip (floor minus native, host `lstat`)", "-", "-", "-",
             us(f) if f is not None else "failed", "-", "-", "-"]]
    targets = {}
    if r is not None and f is not None:
        targets = {"lstat-cold": (f + 2 * r + 10, "F + 2R + 10"),
                   "lstat-cached": (1.15 * f, "1.15 F"),
                   "open-close": (f + 2 * r + 10, "F + 2R + 10"),
                   "lstat-host": (1.1 * f, "1.1 F")}
    labels = [("lstat-cold", "`lstat`, first time"), ("lstat-cached", "`lstat`, cached"),
              ("lstat-missing", "`lstat` of a missing name"),
              ("open-close", "`open`+`close` (attributes cached)"),
              ("create-write-close", "create + 4 KiB write + close"),
              ("lstat-host", "`lstat` of a host file")]
    for test, label in labels:
        base = nat.get(test)
        cells = []
        for c in cols:
            v = mc[c].get(test)
            if v is None:
                cells.append(ABSENT.get(c) or "failed")
            else:
                cells.append("%s (%s)" % (us(v), ratio(v / base) if base else "-"))
        goal = "-"
        if test in targets and test in mc["coda"] and base:
            bound, text = targets[test]
            extra = mc["coda"][test] - base
            goal = verdict(extra <= bound, "%s over native <= %s = %s" % (us(extra), text, us(bound)))
            if test in mc["stage"]:  # opt-in: shown, not counted in the summary
                extra = mc["stage"][test] - base
                goal += "; `--stage`: %s over native: **%s**" % (
                    us(extra), "pass" if extra <= bound else "miss")
        rows.append([label] + cells + [goal])
    ups = (stats("micro_cold") or {}).get("upcall", {})
    cells = ["-"] * len(cols)
    goal = "n/a (no --stats)"
    if ups:
        p50 = {k: ups[k][1] for k in ("LOOKUP", "GETATTR") if k in ups and ups[k][1] is not None}
        cells[1] = ", ".join("%s %s" % (k, us(v)) for k, v in p50.items()) or "n/a"
        if p50 and r is not None:
            goal = verdict(max(p50.values()) <= r + 10, "p50 <= R + 10 = %s" % us(r + 10))
    rows.append(["an upcall (p50 of the LOOKUPs and GETATTRs of `lstat`, first time)"] + cells +
                [goal])
    return rows


def tree_counts(top, skip=()):
    """Files (with symlinks) and directories (top included) under top."""
    files, dirs = 0, 0
    for root, ds, fs in os.walk(top):
        ds[:] = [d for d in ds if d not in skip]
        dirs += 1
        files += len(fs)
    return files, dirs


def expected():
    """What a kernel Coda mount makes: a LOOKUP and a GETATTR per object on
    first touch, an OPEN and a CLOSE per open. '>=' where the workload also
    reads files we did not count (.git), '~' where the count of opens is the
    program's (python's directory listings)."""
    e = {}
    f, d = tree_counts(os.path.join(VOL, "many"))
    e["find_ls"] = {"LOOKUP": f + d, "GETATTR": f + d, "OPEN": d, "CLOSE": d}
    e["stat"] = {"LOOKUP": f + d, "GETATTR": f + d, "OPEN": 0, "CLOSE": 0}
    f, _ = tree_counts(os.path.join(VOL, "flat"))
    e["ls_l"] = {"LOOKUP": f + 1, "GETATTR": f + 1, "OPEN": 1, "CLOSE": 1}
    f, d = tree_counts(os.path.join(VOL, "repo"), skip=(".git",))
    e["git_status"] = {k: ">= %d" % v for k, v in
                       {"LOOKUP": f + d, "GETATTR": f + d, "OPEN": d, "CLOSE": d}.items()}
    f, d = tree_counts(os.path.join(VOL, "tree"))
    e["tar_c"] = {"LOOKUP": f + d, "GETATTR": f + d, "OPEN": f + d, "CLOSE": f + d}
    e["tar_x"] = {"LOOKUP": f + d, "OPEN": f, "CLOSE": f, "CREATE": f, "MKDIR": d - 1}
    f, d = tree_counts(os.path.join(VOL, "py"))
    pyc = sum(len(fs) for root, _, fs in os.walk(os.path.join(VOL, "py"))
              if os.path.basename(root) == "__pycache__")
    cache_dirs = sum(1 for root, _, _ in os.walk(os.path.join(VOL, "py"))
                     if os.path.basename(root) == "__pycache__")
    opens = pyc + d - cache_dirs + 1
    e["py_import"] = {"LOOKUP": f + d, "GETATTR": f + d, "OPEN": "~%d" % opens,
                      "CLOSE": "~%d" % opens}
    e["fio_seq"] = e["fio_rand"] = {"LOOKUP": 1, "GETATTR": 1, "OPEN": 1, "CLOSE": 1}
    e["host_cc"] = {"LOOKUP": 0, "GETATTR": 0, "OPEN": 0, "CLOSE": 0}
    return e


def upcall_rows():
    exp = expected()
    rows = []
    for name in ("find_ls", "stat", "ls_l", "git_status", "tar_c", "tar_x", "make",
                 "py_import", "fio_seq", "fio_rand", "host_cc"):
        st = stats(name)
        want = exp.get(name, {})
        if st is None:
            rows.append([name] + ["n/a"] * 6)
            continue
        ups = {k: int(v[0]) for k, v in st.get("upcall", {}).items()}
        got = {"OPEN": sum(v for k, v in ups.items() if k.startswith("OPEN"))}
        for k in ("LOOKUP", "GETATTR", "CLOSE"):
            got[k] = ups.get(k, 0)
        cells = []
        for k in ("LOOKUP", "GETATTR", "OPEN", "CLOSE"):
            cells.append("%d (%s)" % (got[k], want[k]) if k in want else "%d" % got[k])
        rest = ["%s %d%s" % (k, ups.get(k, 0), " (%s)" % want[k] if k in want else "")
                for k in sorted(set(ups) | set(want))
                if not k.startswith("OPEN") and k not in ("LOOKUP", "GETATTR", "CLOSE")]
        p50 = ["%.0f" % st["upcall"][k][1] if st.get("upcall", {}).get(k, (0, None))[1] else "-"
               for k in ("LOOKUP", "GETATTR")]
        rows.append([name] + cells + [", ".join(rest) or "-", " / ".join(p50)])
    return rows


def scale_rows():
    rows, per = [], []
    sizes = [int(x) for x in INFO["scale"].split()]
    for n in sizes:
        t = {c: seconds("scale.%d.%s" % (n, c)) for c in ("native", "coda", "floor")}
        cells = ["%.1f us" % (t[c] / n * 1e6) if t[c] else "failed" for c in t]
        if t["coda"]:
            per.append(t["coda"] / n)
        cells.append(ratio(t["coda"] / t["native"]) if t["coda"] and t["native"] else "-")
        rows.append(["{:,}".format(n)] + cells)
    notes = []
    if len(per) == len(sizes) and per:
        notes.append(verdict(per[-1] <= 1.2 * min(per),
                             "Cost per file flat (at {:,} files within 1.2x of the lowest)"
                             .format(sizes[-1])))
    mem = (stats("scale.%d" % sizes[-1]) or {}).get("memory", {})
    if "supervisor_maxrss_kib" in mem and "venus_maxrss_kib" in mem:
        kib = mem["supervisor_maxrss_kib"][0] + mem["venus_maxrss_kib"][0]
        notes.append(verdict(kib < 32 * 1024,
                             "Peak RSS of supervisor + venus over the {:,}-file run: {:.1f} MiB "
                             "(supervisor {:.1f}, venus {:.1f}; target < 32 MiB)".format(
                                 sizes[-1], kib / 1024, mem["supervisor_maxrss_kib"][0] / 1024,
                                 mem["venus_maxrss_kib"][0] / 1024)))
    else:
        notes.append("Peak RSS of supervisor + venus: n/a (no --stats)")
    return rows, notes


def extra_rows():
    """BENCH_EXTRA=1's rows: native against a first run of coda-exec."""
    if not os.path.exists(path("extra")):
        return []
    rows = []
    for name in open(path("extra")).read().split():
        t = [seconds("%s.%s" % (name, c)) for c in ("native", "coda")]
        cells = [ms(x) if x else missing_cell(name, c) for x, c in zip(t, ("native", "coda"))]
        rows.append(["`%s`" % name] + cells + [ratio(t[1] / t[0]) if all(t) else "-"])
    return rows


def table(head, rows):
    out = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


def write(text):
    print(text)
    with open(OUT, "w") as f:
        f.write(text)


def main():
    if INFO.get("only") == "serve":
        write("\n".join(header() + serve_section()))
        return 1 if WRONG else 0
    wl = workload_rows()
    mi = micro_rows()
    up = upcall_rows()
    sc, notes = scale_rows()
    text = header() + [
            "## Workloads", "",
            table(["workload"] + HEADS + ["targets"], wl), ""] + serve_section() + [
            "## Per call", "",
            table(["call", "native", "coda-exec", "coda-exec `--stage`", "floor", "PRoot `-b`",
                   "bindfs (FUSE)", "target"], mi), "",
            "## Upcalls: coda-exec (a kernel Coda mount)", "",
            "One more run of each workload on a fresh cache with `--stats`. In brackets, "
            "what a kernel Coda mount makes for it: a LOOKUP and a GETATTR per object on "
            "first touch, an OPEN and a CLOSE per open (`>=`: .git not counted; `~`: "
            "python's own opens).", "",
            table(["workload", "LOOKUP", "GETATTR", "OPEN*", "CLOSE", "other upcalls",
                   "p50 LOOKUP / GETATTR (us)"], up),
            "", "## Scaling: `find -ls`, time per file", "",
            table(["files", "native", "coda-exec, first run", "floor", "coda-exec / native"], sc),
            ""] + ["- " + n for n in notes] + ([
            "", "## Other rows (`BENCH_EXTRA=1`)", "",
            table(["row", "native", "coda-exec", "ratio"], extra_rows())] if extra_rows() else []) + [
            "", "Targets of issue 14: %d pass, %d miss."
            % (sum(verdicts), len(verdicts) - sum(verdicts)), ""]
    write("\n".join(text))
    return 1 if WRONG else 0


sys.exit(main())
