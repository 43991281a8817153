"""What every benchmark records beside its figures, and where it writes them.

A record is one JSON file: the benchmark's name and command line, the date,
the machine (CPU model, cores, memory), the versions of what ran, the load
before and after the run (the 1, 5 and 15 minute load averages, and the CPU
time that processes other than the benchmark's own used during it), whether
the run was quiet, and the benchmark's own figures.

``--record`` writes ``benchmarks/results/<name>.json``, the file the README
and the docs show, and refuses a quick run or one that was not quiet: the
figures are printed, and nothing is written. ``--json PATH`` writes the same
record anywhere, whatever the load (a scratch copy, marked as it was).
"""

import datetime
import importlib.metadata
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
# Quiet: before the run, a 1-minute load average of at most MAX_LOAD; during
# it, other processes used at most MAX_OTHERS_CPU cores on average.
MAX_LOAD = 0.5
MAX_OTHERS_CPU = 0.25
PACKAGES = (
    "numpy",
    "scipy",
    "scikit-learn",
    "keras",
    "tensorflow",
    "jax",
    "scikeras",
    "onnxruntime",
    "skmnist",
)


def add_arguments(parser):
    """Add ``--record`` and ``--json`` to a benchmark's argument parser."""
    parser.add_argument(
        "--record",
        action="store_true",
        help="write benchmarks/results/NAME.json, the figures the docs show "
        "(refused for --quick and for a run on a loaded machine)",
    )
    parser.add_argument(
        "--json", metavar="PATH", help="also write the record here, whatever the load"
    )


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gb():
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 1024**2, 1)
    except OSError:
        pass
    return None


def machine():
    """The CPU model, its logical cores, the memory and the system."""
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gb": _memory_gb(),
        "system": f"{platform.system()} {platform.release()} {platform.machine()}",
    }


def versions():
    """The versions of Python and of the packages a benchmark may use."""
    found = {
        "python": platform.python_version(),
        "keras_backend": os.environ.get("KERAS_BACKEND", "tensorflow"),
    }
    for name in PACKAGES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            pass
    return found


def _busy_seconds():
    """Seconds of CPU every process of the machine has used since boot."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _own_seconds():
    """CPU seconds of this process and of its children that have ended."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


class Run:
    """Watch the load around a benchmark run; ``record`` makes its JSON.

    Start it before the benchmark's first measurement, call ``record`` after
    its last.
    """

    def __init__(self, name, quick, argv=None):
        self.name = name
        self.quick = quick
        self.argv = sys.argv if argv is None else argv
        self.date = datetime.datetime.now(datetime.timezone.utc)
        self.load_before = os.getloadavg()
        self._start = (time.monotonic(), _busy_seconds(), _own_seconds())

    def record(self, figures):
        """The whole record: machine, versions, load, quietness and figures."""
        wall, busy, own = (
            now - then
            for now, then in zip(
                (time.monotonic(), _busy_seconds(), _own_seconds()),
                self._start,
                strict=True,
            )
        )
        # Children still running (none, once a benchmark is done) or not
        # waited for would count as others': an error towards "not quiet".
        others = max(0.0, busy - own) / wall if wall > 0 else 0.0
        load = {
            "before": [round(x, 2) for x in self.load_before],
            "after": [round(x, 2) for x in os.getloadavg()],
            "others_cpu_cores": round(others, 2),
            "run_seconds": round(wall, 1),
        }
        quiet = load["before"][0] <= MAX_LOAD and others <= MAX_OTHERS_CPU
        return {
            "name": self.name,
            "command": " ".join(
                ["python", f"benchmarks/{Path(self.argv[0]).name}", *self.argv[1:]]
            ),
            "date": self.date.strftime("%Y-%m-%d %H:%M UTC"),
            "quick": self.quick,
            "quiet": quiet,
            "quiet_rule": (
                f"1-minute load average at most {MAX_LOAD} before the run, and "
                f"at most {MAX_OTHERS_CPU} cores used by other processes during it"
            ),
            "machine": machine(),
            "load": load,
            "versions": versions(),
            "figures": figures,
        }


def write(record, args):
    """Write ``record`` where ``args`` asks; return the exit status (3: refused)."""
    if args.json:
        Path(args.json).write_text(json.dumps(record, indent=2) + "\n")
        print(f"wrote {args.json}", file=sys.stderr)
    if not args.record:
        return 0
    load = record["load"]
    if record["quick"]:
        reason = "a --quick run measures nothing"
    elif not record["quiet"]:
        reason = (
            f"the machine was not quiet (load average {load['before'][0]} before "
            f"the run, {load['others_cpu_cores']} cores used by other processes "
            f"during it; the rule: {record['quiet_rule']})"
        )
    else:
        RESULTS.mkdir(exist_ok=True)
        path = RESULTS / f"{record['name']}.json"
        path.write_text(json.dumps(record, indent=2) + "\n")
        print(f"recorded {path}", file=sys.stderr)
        return 0
    print(f"not recorded: {reason}", file=sys.stderr)
    return 3
