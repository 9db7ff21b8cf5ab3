"""A process that imports the CLI once, then forks one `ictindex import` per request.

Used by test_crash_safety.py so that 50 killed imports cost 50 imports, not 50 interpreter
start-ups.  Protocol, one line each way:

    stdin:  DB<TAB>FILE        stdout: PID          (the child runs `ictindex --db DB import FILE`)
    stdin:  (any line)         stdout: STATUS       (os.waitpid status once the child is gone)

The child is the real command (`ictindex.cli`, click, the app, the store) in a fresh process
image forked before any database was opened; the test kills it with SIGKILL by its PID.
"""

from __future__ import annotations

import os
import sys

os.environ["ICTINDEX_ACTOR"] = "crash-test"

from ictindex.cli import build_cli  # noqa: E402
from plugins.manager import get_registry  # noqa: E402

cli = build_cli()
get_registry()  # load the plugins before forking, as a long-running process would have

for line in sys.stdin:
    db, path = line.rstrip("\n").split("\t")
    pid = os.fork()
    if pid == 0:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        code = 0
        try:
            cli.main(["--db", db, "import", path], prog_name="ictindex")
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:
            code = 70
        os._exit(code)
    print(pid, flush=True)
    sys.stdin.readline()  # reap only when told: the PID stays this child's until then
    _, status = os.waitpid(pid, 0)
    print(status, flush=True)
