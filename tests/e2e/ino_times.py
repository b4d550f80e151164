# Identity and times of objects, printed so that a native run and one under
# coda-exec can be compared line for line (no raw numbers, only relations).
#
#   python3 ino_times.py times   the order of atime, mtime and ctime of a file
#                                and which of them moved, after each step of
#                                its life (create, write, append, truncate,
#                                chmod, rename, ...), while it is open and once
#                                it is closed (stored), with its directory's
#   python3 ino_times.py ino     st_ino against getdents64's d_ino for every
#                                name ("." and ".." too), through directory
#                                churn that reuses inode numbers and stores
#                                that replace backing files: equal, below
#                                2^63, one per object, unchanged for the run
#
# Run in the directory to work in (the mount, or a plain directory).
import ctypes
import os
import struct
import sys
import time

libc = ctypes.CDLL(None, use_errno=True)
SYS_GETDENTS64 = 217  # x86-64


def dents(path):
    """{name: d_ino} of a directory, by getdents64 itself."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    buf = ctypes.create_string_buffer(32768)
    out = {}
    try:
        while True:
            n = libc.syscall(SYS_GETDENTS64, fd, buf, len(buf))
            if n < 0:
                raise OSError(ctypes.get_errno(), "getdents64 " + path)
            if n == 0:
                return out
            raw = buf.raw[:n]
            pos = 0
            while pos < n:
                ino, _, reclen = struct.unpack_from("<QqH", raw, pos)
                name = raw[pos + 19:pos + reclen].split(b"\0", 1)[0].decode()
                out[name] = ino
                pos += reclen
    finally:
        os.close(fd)


def rel(x, y):
    return "<" if x < y else "=" if x == y else ">"


# A tick of the file system's clock (coarse: a few ms) between steps, so
# that each step's times differ from the last one's.
def tick():
    time.sleep(0.03)


def write(path, data, mode="w"):
    with open(path, mode) as f:
        f.write(data)


class Times:
    def __init__(self):
        self.last = {}

    def show(self, step, path, st=None):
        st = st or os.lstat(path)
        d = os.lstat(os.path.dirname(path) or ".")
        f = (st.st_atime_ns, st.st_mtime_ns, st.st_ctime_ns)
        g = (d.st_mtime_ns, d.st_ctime_ns)
        pf, pg = self.last.get("f"), self.last.get("d")
        moved = "".join(n for n, a, b in zip("amc", f, pf or f) if a != b) or "-"
        dmoved = "".join(n for n, a, b in zip("mc", g, pg or g) if a != b) or "-"
        print("%-26s file a%sm m%sc a%sc moved %-3s  dir m%sc moved %s" % (
            step, rel(f[0], f[1]), rel(f[1], f[2]), rel(f[0], f[2]), moved,
            rel(g[0], g[1]), dmoved))
        self.last["f"], self.last["d"] = f, g
        tick()


def session(t, flags, step, act):
    """An open of d/f for writing, seen once open, after act(fd), and once
    closed (stored)."""
    fd = os.open("d/f", flags)
    t.show("%s: opened" % step, "d/f")
    if act:
        act(fd)
        t.show("%s: done" % step, "d/f", os.fstat(fd))
    os.close(fd)
    t.show("%s: stored" % step, "d/f")


def times():
    os.mkdir("d")
    tick()
    t = Times()
    # the directory's times first read after a store in it
    fd = os.open("d/e", os.O_WRONLY | os.O_CREAT, 0o644)
    tick()
    os.write(fd, b"a new file\n")
    os.close(fd)
    t.show("new file: stored", "d/e")
    fd = os.open("d/f", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    t.show("create: opened", "d/f", os.fstat(fd))
    os.close(fd)
    t.show("create: stored", "d/f")
    session(t, os.O_WRONLY | os.O_TRUNC, "write", lambda fd: os.write(fd, b"x" * 5000))
    session(t, os.O_WRONLY | os.O_APPEND, "append", lambda fd: os.write(fd, b"y" * 100))
    session(t, os.O_RDWR, "no write", None)
    os.truncate("d/f", 10)
    t.show("truncate", "d/f")
    session(t, os.O_RDWR, "ftruncate", lambda fd: os.ftruncate(fd, 3))
    os.chmod("d/f", 0o600)
    t.show("chmod", "d/f")
    os.rename("d/f", "d/g")
    t.show("rename", "d/g")
    os.utime("d/g", ns=(1500000000000000000, 1600000000000000000))
    t.show("utime", "d/g")
    os.link("d/g", "d/h")
    t.show("link", "d/g")
    write("d/g", "z", "a")
    t.show("append to a link: stored", "d/g")
    os.symlink("g", "d/s")
    t.show("symlink", "d/s")
    os.mkdir("d/sub")
    t.show("mkdir", "d/sub")


def walk():
    """(path, lstat) of every object under ".", "." included, sorted."""
    out = [(".", os.lstat("."))]
    for root, dirs, files in os.walk("."):
        for n in dirs + files:
            p = os.path.join(root, n)
            out.append((p, os.lstat(p)))
    return sorted(out)


def check_names(where):
    """st_ino against d_ino for every name of every directory."""
    bad = []
    for p, st in walk():
        if not os.path.isdir(p) or os.path.islink(p):
            continue
        for name, d_ino in sorted(dents(p).items()):
            q = os.path.join(p, name)
            ino = os.lstat(q).st_ino
            if d_ino != ino:
                bad.append("%s: d_ino and st_ino differ" % q)
            if not 0 < ino < 2**63:
                bad.append("%s: st_ino out of range" % q)
    more = " and %d more" % (len(bad) - 6) if len(bad) > 6 else ""
    print("%s: %s" % (where, "; ".join(bad[:6]) + more if bad
                      else "d_ino = st_ino < 2^63 for every name"))


def check_objects(where, before):
    """One number per object, and each object's number as it was."""
    now = walk()
    objects = {(st.st_dev, st.st_ino) for _, st in now}
    links = {(st.st_dev, st.st_ino) for _, st in now if not os.path.isdir(_) and st.st_nlink > 1}
    print("%s: %d names, %d numbers, %d of them shared by hard links" % (
        where, len(now), len(objects), len(links)))
    moved = [p for p, st in now if p in before and before[p] != st.st_ino]
    print("%s: %s" % (where, ", ".join(moved) + " changed number" if moved
                      else "every number as before"))
    return {p: st.st_ino for p, st in now}


def ino():
    # objects of every kind, two names for one file
    os.makedirs("a/b/c")
    for i in range(20):
        write("a/f%02d" % i, "file %d\n" % i)
    os.symlink("f00", "a/link")
    os.link("a/f01", "a/b/hard")
    check_names("made")
    numbers = check_objects("made", {})
    # directories made and removed: their inode numbers come back
    for i in range(30):
        os.mkdir("churn%02d" % i)
        write("churn%02d/x" % i, "x")
        os.unlink("churn%02d/x" % i)
        os.rmdir("churn%02d" % i)
    for i in range(10):
        os.mkdir("a/b/new%02d" % i)
    check_names("after churn")
    numbers = check_objects("after churn", numbers)
    # stores: each write replaces a backing file, whose old inode number the
    # next new files may get
    fd = os.open("a/f02", os.O_WRONLY | os.O_APPEND)
    open_ino = os.fstat(fd).st_ino
    os.write(fd, b"more\n")
    print("fstat of a file open for writing: %s" % (
        "same number" if open_ino == os.stat("a/f02").st_ino else "another number"))
    os.close(fd)
    for i in range(20):
        write("a/f%02d" % i, "rewritten %d\n" % i)
    write("a/b/hard", "through the link\n", "a")
    for i in range(20):
        write("a/b/c/g%02d" % i, "new %d\n" % i)
    os.rename("a/f03", "a/b/moved")
    os.chmod("a/f04", 0o600)
    numbers["./a/b/moved"] = numbers.pop("./a/f03")
    check_names("after stores")
    numbers = check_objects("after stores", numbers)
    fd = os.open("a/f05", os.O_RDONLY)
    print("fstat of a stored file: %s" % (
        "same number" if os.fstat(fd).st_ino == numbers["./a/f05"] else "another number"))
    os.close(fd)


{"times": times, "ino": ino}[sys.argv[1]]()
