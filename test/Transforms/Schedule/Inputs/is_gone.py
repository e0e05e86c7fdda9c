"""Prints whether the process whose pid is in PIDFILE is gone (exited or a
zombie), waiting up to 5 s for it; one still running is killed (so a failing
test leaves nothing behind) and reported."""

import os
import signal
import sys
import time


def running(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


pid = int(open(sys.argv[1]).read())
deadline = time.monotonic() + 5
while running(pid) and time.monotonic() < deadline:
    time.sleep(0.02)
if running(pid):
    os.kill(pid, signal.SIGKILL)
    print(f"process {pid} was still running")
else:
    print("gone")
