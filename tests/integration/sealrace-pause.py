# gdb script for sealrace.sh: pause each bmapfs worker for 0.2 s at the
# moment the engine has agreed to remove the last link of a regular file
# and the name is about to go (the removal callback that
# bmap_file_unlink_with runs).  A seal that can slip into that moment
# shows up in sealrace as the last link of a sealed file removed; one that
# cannot waits until the name is gone.  Loaded with
#   gdb -iex 'set non-stop on' -p PID -x sealrace-pause.py
# so only the paused worker stops.  Writes "ready" to $SEALRACE_READY
# once attached and running again.
import os
import time

import gdb

# where: a function and its caller; the environment may name another
# point, e.g. that of an older bmapfs, to show what the test catches
PAUSE_AT = os.environ.get("SEALRACE_PAUSE_AT", "run_locked")	# ops_dir.c
CALLER = os.environ.get("SEALRACE_CALLER", "bmap_file_unlink_with")


class Pause(gdb.Breakpoint):
    def stop(self):
        older = gdb.selected_frame().older()
        if older is not None and older.name() == CALLER:
            time.sleep(0.2)
        return False


def resume():
    try:
        gdb.execute("continue -a &")
    except gdb.error:
        pass


bp = Pause(PAUSE_AT)
if bp.pending or not bp.locations:
    raise gdb.GdbError("no function %s in bmapfs" % PAUSE_AT)
# threads stop as gdb attaches, one by one: start each again
gdb.events.stop.connect(lambda ev: gdb.post_event(resume))
resume()
with open(os.environ["SEALRACE_READY"], "w") as f:
    f.write("ready\n")
