"""pty_run -- run `assay run CONFIG` with its standard error on a pseudo-
terminal, as an operator's terminal is, for the tests of what assay draws
there (tests/progress.sh, tests/plugin-commands.sh).  Imported from their
Python parts: sys.path gets $top_srcdir/tests first."""
import os
import pty
import select


def run(assay, config, env_extra=None, args=()):
    """The exit status, and every byte assay wrote to its standard error
    (a pty; standard output goes to /dev/null), `assay run CONFIG ARGS...`.
    NO_PROGRESS is unset unless env_extra sets it.  Stops reading after
    10 s of silence."""
    master, slave = pty.openpty()
    env = dict(os.environ)
    env.pop("NO_PROGRESS", None)
    env.update(env_extra or {})
    pid = os.fork()
    if pid == 0:
        os.dup2(slave, 2)
        os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
        os.execve(assay, [assay, "run", config, *args], env)
    os.close(slave)
    out = b""
    while True:
        ready, _, _ = select.select([master], [], [], 10)
        if not ready:
            break
        try:
            data = os.read(master, 4096)
        except OSError:  # EIO: the child closed the pty
            break
        if not data:
            break
        out += data
    _, status = os.waitpid(pid, 0)
    os.close(master)
    return os.waitstatus_to_exitcode(status), out
