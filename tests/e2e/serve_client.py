#!/usr/bin/env python3
"""serve_client.py MODE SOCKET [NAME]: speaks the Coda wire protocol straight
to a coda-exec --serve socket, as a job's supervisor would, and prints what
the server answers, one line per step (tests/e2e/serve.sh compares them).

  spoof SOCKET NAME FID  truncate the volume's NAME with uid 0 in every
                     upcall header (the server must use the connection's
                     uid), then GETATTR FID (hex), a fid venus handed
                     another user
  fid SOCKET NAME    print the fid of NAME in the root, in hex
  malformed SOCKET   records no job sends: short, oversized, unknown and
                     downcall opcodes, names out of bounds, with '/' or no
                     NUL, a unique twice, a fid never handed to the
                     connection's user, one another connection of it was
                     handed (that user reads its answers: it may), a
                     flood; after each, a new connection must still be
                     served
  escape SOCKET VOL OUT  with the fid of VOL's d/e, move d to OUT, put a
                     symlink to it in its place and a file in e, as anyone
                     who may write VOL can, then look up and get the
                     attributes of that file and create a name in e
                     (venus must reach nothing outside VOL)
"""
import ctypes
import errno
import os
import socket
import struct
import sys
import threading
import time

CODA_ROOT, CODA_GETATTR, CODA_SETATTR, CODA_LOOKUP, CODA_CREATE = 2, 7, 8, 10, 11
CODA_ZAPFILE = 26
HELLO = 0x43580001
IN_HDR = struct.Struct("=IIiiI")   # opcode unique pid pgid uid
OUT_HDR = struct.Struct("=IIi")    # opcode unique result
FID = struct.Struct("=4I")


class Timespec(ctypes.Structure):
    _fields_ = [("sec", ctypes.c_int64), ("nsec", ctypes.c_long)]


class Vattr(ctypes.Structure):  # struct coda_vattr, x86-64
    _fields_ = [("type", ctypes.c_long), ("mode", ctypes.c_ushort),
                ("nlink", ctypes.c_short), ("uid", ctypes.c_uint32),
                ("gid", ctypes.c_uint32), ("fileid", ctypes.c_long),
                ("size", ctypes.c_uint64), ("blocksize", ctypes.c_long),
                ("atime", Timespec), ("mtime", Timespec), ("ctime", Timespec),
                ("gen", ctypes.c_ulong), ("flags", ctypes.c_ulong),
                ("rdev", ctypes.c_uint64), ("bytes", ctypes.c_uint64),
                ("filerev", ctypes.c_uint64)]


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(10)
    s.connect(path)
    return s


def hdr(opcode, unique, uid=0):
    return IN_HDR.pack(opcode, unique, os.getpid(), os.getpgrp(), uid)


def result(s, unique=None):
    """The result of the next reply (for unique), as an errno name."""
    while True:
        data = s.recv(8192)
        if not data:
            return "closed", b""
        op, u, res = OUT_HDR.unpack_from(data)
        if unique is None or u == unique:
            return (errno.errorcode.get(res, str(res)) if res else "OK"), data


def call(s, msg, unique):
    s.send(msg)
    return result(s, unique)


def fid_of(data):
    """The fid a reply (ROOT, LOOKUP, CREATE) begins with."""
    return data[OUT_HDR.size:OUT_HDR.size + FID.size]


def root_fid(s, uid=0):
    res, data = call(s, hdr(CODA_ROOT, 1, uid), 1)
    assert res == "OK", res
    return fid_of(data)


def lookup(fid, name, unique, uid=0, name_off=None, tail=b"\0"):
    fixed = IN_HDR.size + FID.size + 8
    off = fixed if name_off is None else name_off
    return (hdr(CODA_LOOKUP, unique, uid) + fid + struct.pack("=ii", off, 0) +
            name + tail)


def create(fid, name, unique):
    va = Vattr()
    ctypes.memset(ctypes.addressof(va), 0xff, ctypes.sizeof(va))
    body = hdr(CODA_CREATE, unique) + fid
    body += b"\0" * (-len(body) % 8) + bytes(va)
    off = len(body) + 12
    off += -off % 8
    body += struct.pack("=iii", 1, 0o644, off)
    return body + b"\0" * (off - len(body)) + name + b"\0"


def escape(path, vol, out):
    s = connect(path)
    res, data = call(s, lookup(root_fid(s), b"d", 2), 2)
    assert res == "OK", res
    res, data = call(s, lookup(fid_of(data), b"e", 3), 3)
    assert res == "OK", res
    e = fid_of(data)
    os.rename(os.path.join(vol, "d"), os.path.join(out, "d"))
    os.symlink(os.path.join(out, "d"), os.path.join(vol, "d"))
    with open(os.path.join(out, "d", "e", "secret"), "w") as f:
        f.write("outside the volume\n")
    res, data = call(s, lookup(e, b"secret", 4), 4)
    if res == "OK":
        res, data = call(s, hdr(CODA_GETATTR, 5) + fid_of(data), 5)
        if res == "OK":
            # struct coda_getattr_out: the header, padded to 8, then attr
            res = "size %d" % Vattr.from_buffer_copy(data, 16).size
    print("LOOKUP of a name outside the volume:", res)
    print("CREATE outside the volume:", call(s, create(e, b"made", 6), 6)[0])


def print_fid(path, name):
    s = connect(path)
    res, data = call(s, lookup(root_fid(s), name.encode(), 2), 2)
    assert res == "OK", res
    print(fid_of(data).hex())


def spoof(path, name, other):
    s = connect(path)
    root = root_fid(s)
    res, data = call(s, lookup(root, name.encode(), 2), 2)
    print("LOOKUP", res)
    fid = fid_of(data)
    va = Vattr()
    ctypes.memset(ctypes.addressof(va), 0xff, ctypes.sizeof(va))
    va.size = 0
    body = hdr(CODA_SETATTR, 3, 0) + fid
    body += b"\0" * (-len(body) % 8) + bytes(va)
    print("SETATTR size 0 as uid 0:", call(s, body, 3)[0])
    print("another user's fid:", call(s, hdr(CODA_GETATTR, 4) + bytes.fromhex(other), 4)[0])


def alive(path):
    """A new connection is served: HELLO and a ROOT through venus."""
    s = connect(path)
    ok = call(s, hdr(HELLO, 7), 7)[0] == "OK" and root_fid(s)
    s.close()
    return "served" if ok else "not served"


def case(path, label, send, unique=5):
    s = connect(path)
    root = root_fid(s)
    for msg in send(root):
        s.send(msg)
    try:
        res = result(s, unique)[0]
    except socket.timeout:
        res = "no answer"
    s.close()
    print("%s: %s; then a new job: %s" % (label, res, alive(path)))


def others_fid(path):
    """A fid one connection found, named by another of the same user that
    did not: it could read it from the user's table of answers."""
    a, b = connect(path), connect(path)
    res, data = call(a, lookup(root_fid(a), b"f.txt", 2), 2)
    assert res == "OK", res
    root_fid(b)
    res = call(b, hdr(CODA_GETATTR, 3) + fid_of(data), 3)[0]
    a.close()
    b.close()
    print("another job's fid, of the same user: %s; then a new job: %s" % (res, alive(path)))


def flood(path, flooders=40):
    """Connections that send upcalls as fast as the server takes them and
    never read a reply; meanwhile other jobs must be served."""
    done = threading.Event()

    def send(s, root):
        unique = 100
        while not done.is_set():
            try:
                s.send(hdr(CODA_GETATTR, unique) + root)
            except socket.timeout:
                continue
            except OSError:
                return  # closed: it read no reply
            unique += 1

    socks = [connect(path) for _ in range(flooders)]
    threads = []
    for s in socks:
        threads.append(threading.Thread(target=send, args=(s, root_fid(s))))
        s.settimeout(0.2)
        threads[-1].start()
    time.sleep(0.5)
    others = [alive(path) for _ in range(3)]
    done.set()
    for t in threads:
        t.join()
    for s in socks:
        s.close()
    print("flood: jobs during it: %s" % ", ".join(others))


def malformed(path):
    fixed = IN_HDR.size + FID.size + 8
    case(path, "short record", lambda r: [b"\1\0\0"])
    case(path, "oversized record", lambda r: [b"\0" * 9000])
    case(path, "unknown opcode", lambda r: [hdr(4711, 5)])
    case(path, "downcall opcode", lambda r: [hdr(CODA_ZAPFILE, 5) + r])
    case(path, "upcall shorter than its opcode's",
         lambda r: [hdr(CODA_GETATTR, 5) + r[:7]])
    case(path, "name offset past the end",
         lambda r: [lookup(r, b"f.txt", 5, name_off=4000)])
    case(path, "name offset inside the header",
         lambda r: [lookup(r, b"f.txt", 5, name_off=4)])
    case(path, "name without NUL", lambda r: [lookup(r, b"f.txt", 5, tail=b"")])
    case(path, "name with '/'", lambda r: [lookup(r, b"../../etc", 5)])
    case(path, "name with '/' before its NUL",
         lambda r: [lookup(r, b"f.txt/x", 5)])
    case(path, "name longer than 255",
         lambda r: [lookup(r, b"n" * 300, 5)])
    case(path, "the same unique twice",
         lambda r: [lookup(r, b"f.txt", 9)] * 2 + [lookup(r, b"f.txt", 5)])
    case(path, "CODA_SIGNAL for a unique never sent",
         lambda r: [hdr(23, 4242), lookup(r, b"f.txt", 5)])
    case(path, "a fid made up",
         lambda r: [hdr(CODA_GETATTR, 5) + r[:12] + b"\x39\x30\0\0"])
    others_fid(path)
    flood(path)


if __name__ == "__main__":
    if sys.argv[1] == "spoof":
        spoof(sys.argv[2], sys.argv[3], sys.argv[4])
    elif sys.argv[1] == "fid":
        print_fid(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "escape":
        escape(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        malformed(sys.argv[2])
