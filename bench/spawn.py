"""Run one command and write its wall time and peak RSS (JSON) to the file given first.

The bench may hold a large list (the claims it picks targets from): a process forked from it
starts with the bench's resident pages in its peak RSS, since Linux carries the high-water mark
across fork and exec. Started from this small process instead, the figure is the command's own.
Usage: python -I -S bench/spawn.py OUT.json COMMAND [ARG...]
"""

import json
import os
import sys
import time

out, argv = sys.argv[1], sys.argv[2:]
t0 = time.perf_counter()
pid = os.posix_spawnp(argv[0], argv, os.environ)
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - t0
with open(out, "w") as f:
    json.dump({"seconds": wall, "max_rss_kib": usage.ru_maxrss}, f)
sys.exit(os.waitstatus_to_exitcode(status))
