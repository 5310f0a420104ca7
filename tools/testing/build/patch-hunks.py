#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""patch-hunks.py PATCH...: check that every hunk holds as many lines as its
@@ header says: patch(1) and git apply take a short count silently and
drop the lines past it."""
import re
import sys

HUNK = re.compile(r"^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@")
bad = 0
for path in sys.argv[1:]:
    lines = open(path, encoding="utf-8").read().split("\n")
    i = 0
    while i < len(lines):
        m = HUNK.match(lines[i])
        if not m:
            i += 1
            continue
        want_old = int(m.group(1) or 1)
        want_new = int(m.group(2) or 1)
        old = new = 0
        j = i + 1
        while j < len(lines) and (old < want_old or new < want_new):
            line = lines[j]
            if line.startswith("\\"):
                j += 1
                continue
            tag = line[:1]
            if tag == " " or line == "":
                old += 1
                new += 1
            elif tag == "-":
                old += 1
            elif tag == "+":
                new += 1
            else:
                break
            j += 1
        nxt = lines[j] if j < len(lines) else ""
        # A diff line right after the hunk, other than the "-- " that ends
        # format-patch output, is one the count left out.
        more = nxt[:1] in ("+", "-", " ") and not nxt.startswith("-- ")
        if (old, new) != (want_old, want_new) or more:
            print(f"{path}:{i + 1}: hunk says -{want_old} +{want_new}, "
                  f"holds -{old} +{new}{' and more' if more else ''}")
            bad += 1
        i = j
sys.exit(1 if bad else 0)
