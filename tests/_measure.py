"""Peak memory and time of a process: what a hostile input costs."""

import dataclasses
import os
import subprocess
import sys

_MEASURE = """
import resource, subprocess, sys, time
limit = int(sys.argv[1]) * 2**20
start = time.perf_counter()
child = subprocess.run(
    sys.argv[2:],
    capture_output=True,
    preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_DATA, (limit, limit)),
)
seconds = time.perf_counter() - start
sys.stdout.buffer.write(child.stdout)
sys.stderr.buffer.write(child.stderr)
peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
sys.stderr.write(f"\\nMEASURED {child.returncode} {peak_kb} {seconds}\\n")
"""


@dataclasses.dataclass
class Measured:
    """What :func:`measure` saw of a process: its exit, output, peak memory and time."""

    returncode: int
    stdout: str
    stderr: str
    peak_mb: float
    seconds: float


def measure(argv, *, timeout, limit_mb=8192, env=None):
    """Run ``argv`` in a fresh process; return its peak resident memory and time.

    A wrapper process runs it as its only child and reads the child's peak
    resident set from the kernel. The child's heap is capped at ``limit_mb``
    (``RLIMIT_DATA``), so that a regression fails the test with a
    ``MemoryError`` instead of exhausting the machine; ``timeout`` bounds its
    time.
    """
    result = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(limit_mb), *map(str, argv)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )
    stderr, _, tail = result.stderr.rpartition("\nMEASURED ")
    returncode, peak_kb, seconds = tail.split()
    return Measured(
        int(returncode), result.stdout, stderr, int(peak_kb) / 1024, float(seconds)
    )


def measure_python(code, args=(), **kwargs):
    """:func:`measure` of ``python -c code *args``."""
    return measure([sys.executable, "-c", code, *args], **kwargs)
