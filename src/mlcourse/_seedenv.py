"""Keep the grading seed out of every readable environment block.

``os.environ.pop`` removes a variable from Python's mapping, but not from the environment
block the process was started with: ``/proc/PID/environ`` still shows it to anything that may
read it (the same user; root). So when ``MLCOURSE_GRADING_SEED`` is set, the ``mlcourse``
command starts itself again without it: the value travels through a pipe whose read end the
new process inherits (its number is in ``MLCOURSE_GRADING_SEED_FD``, which is no secret), and
is read once and closed. Standard library only, imported before anything else.
"""

from __future__ import annotations

import os
import sys

SEED_ENV = "MLCOURSE_GRADING_SEED"
SEED_FD_ENV = "MLCOURSE_GRADING_SEED_FD"
#: a longer value is not a seed: it is left for read_seed to refuse
_MAX_SEED_TEXT = 4096


def reexec_without_seed() -> None:
    """Start this command again with the seed moved from the environment into a pipe.

    Does nothing when the variable is not set or the process was started this way already;
    otherwise it does not return.
    """
    value = os.environ.get(SEED_ENV)
    if value is None or SEED_FD_ENV in os.environ or len(value) > _MAX_SEED_TEXT:
        return
    argv = list(getattr(sys, "orig_argv", []))
    if not argv:
        return
    read_end, write_end = os.pipe()
    os.write(write_end, value.encode())  # far below the pipe's buffer: never blocks
    os.close(write_end)
    os.set_inheritable(read_end, True)
    env = {k: v for k, v in os.environ.items() if k != SEED_ENV}
    env[SEED_FD_ENV] = str(read_end)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, argv, env)


def take_seed_text() -> str | None:
    """The seed text from the pipe (after :func:`reexec_without_seed`) or the environment;
    ``None`` when neither has one. Either source is removed once read."""
    env = os.environ.pop(SEED_ENV, None)
    fd_text = os.environ.pop(SEED_FD_ENV, None)
    if fd_text is not None and fd_text.isdigit():
        fd = int(fd_text)
        try:
            chunks = []
            while chunk := os.read(fd, _MAX_SEED_TEXT):
                chunks.append(chunk)
            return b"".join(chunks).decode(errors="replace")
        except OSError:
            return env
        finally:
            try:
                os.close(fd)
            except OSError:
                pass
    return env
