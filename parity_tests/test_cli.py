"""The ``parity`` command's output ends as a Unix tool's does: quietly when its reader goes away, with one line
on stderr when it cannot be written; never a traceback."""

import os
import subprocess
import sys

import pytest

from torch_ref.cli import BROKEN_PIPE

COMMAND = [sys.executable, "-m", "torch_ref"]


def test_a_closed_pipe_ends_the_command_quietly():
    """``parity check | head -1``: the full table is larger than a pipe's buffer, so the write meets the
    closed pipe."""
    process = subprocess.Popen([*COMMAND, "check", "--dtype", "float64"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    assert process.stdout.readline().startswith(b"component")
    process.stdout.close()
    errors = process.stderr.read()
    assert process.wait() == BROKEN_PIPE and errors == b""


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs Linux's /dev/full")
def test_an_output_that_cannot_be_written_is_one_line():
    with open("/dev/full", "w") as full:
        done = subprocess.run([*COMMAND, "check", "--only", "Linear"], stdout=full, stderr=subprocess.PIPE)
    assert done.returncode == 1
    assert done.stderr.decode() == "parity check: cannot write the output: No space left on device\n"
