"""Checks a tool's --help text (stdin): under 80 lines, and every option
described. Prints "ok <lines>" or what is wrong."""
import re
import sys

lines = sys.stdin.read().splitlines()
problems = []
if len(lines) >= 80:
    problems.append(f"{len(lines)} lines (at most 79)")
for line in lines:
    # "  --name=<value>   - description" / "    =value   -   description"
    m = re.match(r"\s+(-{1,2}[\w-]+\S*|=\S+)\s+- (.*)$", line)
    if m and not m.group(2).strip():
        problems.append(f"no help text: {m.group(1)}")
    elif re.match(r"\s+-{1,2}[\w-]+\S*\s*$", line):
        problems.append(f"no help text: {line.strip()}")
print("; ".join(problems) if problems else f"ok {len(lines)}")
