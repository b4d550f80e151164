#!/usr/bin/env python3
"""The options a usage text or a man page documents, one a line, sorted:
names and argument as written, e.g. "-m, --mount DIR".

    options.py help FILE    the output of coda-exec --help
    options.py page FILE    the roff of coda-exec(1): its OPTIONS section
"""
import re
import sys

# "  -m, --mount DIR     mount point", "      --attach SOCKET run COMMAND":
# an argument is upper case, or choices with a bar (fd|path).
HELP_LINE = re.compile(r"^\s+((?:-\w, )?--[\w-]+(?: (?:[A-Z]+|\w+(?:\|\w+)+))?)(?:\s|$)")


def from_help(text):
    return [m.group(1) for m in map(HELP_LINE.match, text.splitlines()) if m]


def plain_roff(line):
    """A roff text line without its font changes and zero-width escapes."""
    return re.sub(r"\\f[BIRP]|\\&", "", line).replace("\\-", "-").replace("\\e", "\\")


def from_page(text):
    """Each definition of OPTIONS is the option, set in bold, and then its
    meaning, indented (.RS)."""
    out, section = [], None
    lines = text.splitlines()
    for line, following in zip(lines, lines[1:]):
        if line.startswith(".SH "):
            section = line[4:].strip('"')
        elif section == "OPTIONS" and line.startswith("\\fB-") and following.startswith(".RS"):
            out.append(plain_roff(line).strip())
    return out


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("help", "page"):
        sys.exit(__doc__)
    with open(sys.argv[2], encoding="utf-8") as f:
        text = f.read()
    found = from_help(text) if sys.argv[1] == "help" else from_page(text)
    print("\n".join(sorted(found)))


if __name__ == "__main__":
    main()
