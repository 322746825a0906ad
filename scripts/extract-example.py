#!/usr/bin/env python3
"""Usage: extract-example.py MARKDOWN NAME OUT

Write to OUT the fenced code block that follows the line
`<!-- example: NAME ...-->` in MARKDOWN, so the build can compile what the
documentation shows.  Fails if the marker or its block is missing."""
import re
import sys

src, name, out = sys.argv[1:]
lines = open(src, encoding="utf-8").read().split("\n")
marker = re.compile(r"<!-- example: " + re.escape(name) + r"\b.*-->")
for i, line in enumerate(lines):
    if marker.fullmatch(line.strip()):
        break
else:
    sys.exit(f"{src}: no '<!-- example: {name} -->' marker")
if i + 1 >= len(lines) or not lines[i + 1].startswith("```"):
    sys.exit(f"{src}:{i + 2}: a ``` fence must follow the {name} marker")
try:
    end = lines.index("```", i + 2)
except ValueError:
    sys.exit(f"{src}:{i + 2}: the {name} block is not closed")
with open(out, "w", encoding="utf-8") as f:
    f.write(f"/* Extracted from {src} (example {name}): edit it there. */\n")
    f.write(f'#line {i + 3} "{src}"\n')
    f.write("\n".join(lines[i + 2:end]) + "\n")
