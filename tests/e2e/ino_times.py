# Identity and times of objects, printed so that a native run and one under
# coda-exec can be compared line for line (no raw numbers, only relations).
#
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


def write(path, data, mode="w"):
    with open(path, mode) as f:
        f.write(data)


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


{"ino": ino}[sys.argv[1]]()
