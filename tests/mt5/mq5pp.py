#!/usr/bin/env python3
"""mq5pp — the documented, minimal preprocessing that lets g++ compile
scripts/mt5/ZepixBridge.mq5 against the MQL5 shim (tests/mt5/mql5.h).

The EA's text is kept line for line (a #line directive points g++'s messages at
the .mq5 file); only these rewrites are made, nothing else:
  1. `#property ...` lines become empty (MQL5 metadata; not C++).
  2. `input TYPE Name = value;` becomes `TYPE Name = mql_input<TYPE>("Name", value);`
     so the fake terminal can set the inputs (--input Name=value), as the
     terminal's input dialog does.
  3. Dynamic arrays `TYPE name[]` and array parameters `TYPE &name[]` become
     `MqlArray<TYPE> name` / `MqlArray<TYPE> &name` (C++ has no unsized
     arrays of that kind). One declarator per such declaration.
  4. `#include <...>` of the MQL5 standard library is refused: the EA uses only
     the built-in API, which the shim models. With --allow-stdlib (to run the
     EA of before issue #15, which used CTrade) `#include <Trade\Trade.mqh>`
     becomes the shim's model of CTrade (Trade.mqh.hpp), and `T a = x, b[];`
     declarations with arrays after a comma are split.
Usage: mq5pp.py [--allow-stdlib] IN.mq5 OUT.cpp
"""
import re
import sys

TYPES = r"(?:bool|char|uchar|short|ushort|int|uint|long|ulong|double|float|string|datetime|color|Mql\w+|Zx\w+)"


def split_top(s):
    """Split at commas outside string literals and parentheses."""
    out, cur, q, depth = [], "", False, 0
    for i, ch in enumerate(s):
        if ch == '"' and (i == 0 or s[i - 1] != "\\"):
            q = not q
        elif not q and ch in "([":
            depth += 1
        elif not q and ch in ")]":
            depth -= 1
        if ch == "," and not q and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    out.append(cur)
    return out


def convert(text, path, stdlib=False):
    out = ['#include "mql5.h"', '#line 1 "%s"' % path]
    for n, line in enumerate(text.split("\n"), 1):
        s = line.strip()
        if s.startswith("#property"):
            line = ""
        elif s.startswith("#include") and stdlib and "Trade.mqh" in s:
            line = '#include "Trade.mqh.hpp"'
        elif s.startswith("#include"):
            raise SystemExit("%s:%d: #include is not supported by the shim: %s" % (path, n, s))
        m = re.match(r"^(\s*)input\s+(" + TYPES + r")\s+(\w+)\s*=\s*(.*?);(.*)$", line)
        if m:
            ind, typ, name, val, rest = m.groups()
            line = '%s%s %s = mql_input<%s>("%s", %s);%s' % (ind, typ, name, typ, name, val, rest)
        if stdlib:
            m = re.match(r"^(\s*)(" + TYPES + r")\s+(.*,.*\w\s*\[\s*\].*);\s*$", line)
            if m and "(" not in m.group(3):
                ind, typ, decls = m.groups()
                line = " ".join("%s %s;" % (typ, d.strip()) for d in split_top(decls))
                line = ind + line
        line = re.sub(r"\b(const\s+)?(" + TYPES + r")\s*&\s*(\w+)\s*\[\s*\]", r"\1MqlArray<\2> &\3", line)
        line = re.sub(r"\b(" + TYPES + r")\s+(\w+)\s*\[\s*\]", r"MqlArray<\1> \2", line)
        out.append(line)
    return "\n".join(out) + "\n"


def main():
    args = sys.argv[1:]
    stdlib = "--allow-stdlib" in args
    args = [a for a in args if a != "--allow-stdlib"]
    src, dst = args[0], args[1]
    with open(src, encoding="utf-8") as f:
        text = f.read()
    with open(dst, "w", encoding="utf-8") as f:
        f.write(convert(text, src, stdlib))


if __name__ == "__main__":
    main()
