#!/usr/bin/env python3
"""Fills the man page's OPTIONS and DIFFERENCES sections from README.md.

    man-from-readme.py README.md coda-exec.1.scd OUT.scd

The options table (under "## Usage") and the table of differences from a
kernel mount are written once, in README.md; the page's scdoc source has a
line @OPTIONS@ and a line @DIFFERENCES@ where they go. A table that is not
where it is looked for, or a row of the wrong shape, fails the build rather
than leaving the page without it.
"""
import re
import sys

OPTIONS_HEADING = "## Usage"
DIFFERENCES_HEADING = "## Differences from a kernel Coda mount"
DIFFERENCES_COLUMNS = ["behaviour", "kernel mount", "coda-exec", "why"]
DIFFERENCES_LABELS = ["Kernel mount", "coda-exec", "Why"]

# Markdown inline markup, in the order it is tried at each position.
TOKEN = re.compile(
    r"`(?P<code>[^`]*)`"
    r"|\*\*(?P<bold>.+?)\*\*"
    r"|\*(?P<italic>[^*\s](?:[^*]*[^*\s])?)\*"
    r"|\[(?P<text>[^\]]*)\]\((?P<url>[^)]*)\)"
    r"|\\(?P<escaped>.)"
    r"|(?P<char>.)",
    re.S,
)


def fail(msg):
    sys.exit(f"man-from-readme.py: {msg}")


def plain(text):
    """Text scdoc prints as it is: its markup characters escaped."""
    return re.sub(r"([\\*_])", r"\\\1", text)


def inline(md):
    """A Markdown line into scdoc: bold stays bold, italic is underlined,
    code is plain text, a link is its text and its address."""
    out = []
    for m in TOKEN.finditer(md):
        if m.group("code") is not None:
            out.append(plain(m.group("code")))
        elif m.group("bold") is not None:
            out.append("*" + inline(m.group("bold")) + "*")
        elif m.group("italic") is not None:
            out.append("_" + inline(m.group("italic")) + "_")
        elif m.group("text") is not None:
            out.append(inline(m.group("text")) + " (" + plain(m.group("url")) + ")")
        elif m.group("escaped") is not None:
            out.append(plain(m.group("escaped")))
        else:
            out.append(plain(m.group("char")))
    return "".join(out)


def cells(line):
    """The cells of a Markdown table row; \\| is a bar inside a cell, even in
    code."""
    parts = re.split(r"(?<!\\)\|", line.strip())
    if len(parts) < 3 or parts[0] or parts[-1]:
        fail(f"not a table row: {line!r}")
    return [p.strip().replace("\\|", "|") for p in parts[1:-1]]


def table_under(readme, heading):
    """The header and rows of the first table in the section under heading."""
    lines = readme.splitlines()
    try:
        i = lines.index(heading)
    except ValueError:
        fail(f"README.md has no heading {heading!r}")
    while i < len(lines) and not lines[i].startswith("|"):
        i += 1
        if i < len(lines) and lines[i].startswith("## "):
            fail(f"no table under {heading!r} in README.md")
    rows = []
    while i < len(lines) and lines[i].startswith("|"):
        rows.append(cells(lines[i]))
        i += 1
    if len(rows) < 3 or not all(re.fullmatch(r":?-+:?", c) for c in rows[1]):
        fail(f"the table under {heading!r} has no header and rows")
    header, body = rows[0], rows[2:]
    for row in body:
        if len(row) != len(header):
            fail(f"a row under {heading!r} has {len(row)} cells, not {len(header)}: {row[0]}")
    return header, body


def option_entry(spec, meaning):
    """`-m, --mount DIR` and its meaning: an scdoc definition."""
    m = re.fullmatch(r"`([^`]+)`", spec)
    if not m:
        fail(f"an option's cell is not one code span: {spec!r}")
    words = m.group(1).split()
    names = [w.rstrip(",") for w in words if w.startswith("-")]
    args = words[len(names):]
    if not names or any(w.startswith("-") for w in args) or not meaning:
        fail(f"not an option and its meaning: {spec!r}")
    if meaning.startswith("."):
        fail(f"scdoc drops the dot that starts a line: the meaning of {spec}")
    head = ", ".join("*" + plain(n) + "*" for n in names)
    if args:
        head += " _" + plain(" ".join(args)) + "_"
    return [head, "\t" + inline(meaning), ""]


def options(readme):
    header, body = table_under(readme, OPTIONS_HEADING)
    if [h.lower() for h in header] != ["option", "meaning"]:
        fail(f"the options table's columns are {header}")
    return [line for row in body for line in option_entry(*row)]


def differences(readme):
    header, body = table_under(readme, DIFFERENCES_HEADING)
    if [h.lower() for h in header] != DIFFERENCES_COLUMNS:
        fail(f"the differences table's columns are {header}, not {DIFFERENCES_COLUMNS}")
    out = []
    for behaviour, *says in body:
        out.append("*" + inline(behaviour) + "*")
        for label, text in zip(DIFFERENCES_LABELS, says):
            if text:
                out += ["\t_" + label + ":_ " + inline(text), ""]
    return out


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: man-from-readme.py README.md PAGE.scd OUT.scd")
    readme_path, page_path, out_path = sys.argv[1:]
    with open(readme_path, encoding="utf-8") as f:
        readme = f.read()
    with open(page_path, encoding="utf-8") as f:
        page = f.read().splitlines()
    fill = {"@OPTIONS@": options(readme), "@DIFFERENCES@": differences(readme)}
    out = []
    for line in page:
        out += fill.pop(line) if line in fill else [line]
    if fill:
        fail(f"{page_path} has no line {' or '.join(fill)}")
    with open(out_path, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
