#!/usr/bin/python3
"""manifest.py DIR TIMES [EXCLUDE_RE]: one line per entry below DIR, sorted:
path, type, mode, uid:gid, link count, size (not for directories), MD5 of
a file, target of a symlink; mtime (ns) too where TIMES says so: "none",
"reg" (regular files), "files" (everything but directories), "all", or a
regex of paths.  The top directory itself: mode and owner only.  Used by
the e2e suites (lib.sh's same_trees) to compare a volume with a native tree.
"""
import hashlib, os, re, stat, sys

root, times = sys.argv[1], sys.argv[2]
excl = re.compile(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[3] else None
times_re = None if times in ("none", "reg", "files", "all") else re.compile(times)

def md5(p):
    h = hashlib.md5()
    with open(p, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    return h.hexdigest()

st = os.lstat(root)
print(". d %o %d:%d" % (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid))
out = []
for dirpath, dirnames, filenames in os.walk(root):
    for name in dirnames + filenames:
        p = os.path.join(dirpath, name)
        rel = "./" + os.path.relpath(p, root)
        if excl and excl.search(rel):
            continue
        st = os.lstat(p)
        m = st.st_mode
        kind = "d" if stat.S_ISDIR(m) else "l" if stat.S_ISLNK(m) else "f" if stat.S_ISREG(m) else "?"
        line = "%s %s %o %d:%d n%d" % (rel, kind, stat.S_IMODE(m), st.st_uid, st.st_gid, st.st_nlink)
        if not stat.S_ISDIR(m):
            line += " s%d" % st.st_size
        if stat.S_ISREG(m):
            try:
                line += " " + md5(p)
            except PermissionError:
                line += " unreadable"
        if stat.S_ISLNK(m):
            line += " -> " + os.readlink(p)
        if (times == "all" or (times == "files" and not stat.S_ISDIR(m))
                or (times == "reg" and stat.S_ISREG(m))
                or (times_re and times_re.search(rel))):
            line += " t%d" % st.st_mtime_ns
        out.append(line)
print("\n".join(sorted(out)))
