"""The command line's own output, as the user guide shows it.

Runs, in a fresh directory, the user guide's ``skmnist train --epochs 3
--validation-split 0.1 --random-state 0 --output seed.skmnist`` (piped, so one
line per epoch) and then ``skmnist export seed.skmnist mnist.onnx``, and
records what each printed, with the fit time and the test accuracy ``train``
reported.

Usage::

    SKMNIST_DATA=../shared/mnist python benchmarks/bench_cli.py [--quick] [--record] [--json PATH]

``--quick`` trains 1 epoch: a smoke run. ``--record`` writes
``benchmarks/results/bench_cli.json`` on a quiet machine only (see
``_record.py``).
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile

import _record

TRAIN = "skmnist train --epochs 3 --validation-split 0.1 --random-state 0 --output seed.skmnist"
EXPORT = "skmnist export seed.skmnist mnist.onnx"


def _run(command, cwd):
    args = [sys.executable, "-m", "skmnist", *command.split()[1:]]
    out = subprocess.run(
        args, cwd=cwd, capture_output=True, text=True, env=dict(os.environ)
    )
    if out.returncode:
        raise RuntimeError(f"{command} failed:\n{out.stderr[-2000:]}")
    return out.stdout.splitlines()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small smoke run")
    _record.add_arguments(parser)
    args = parser.parse_args(argv)
    train = TRAIN.replace("--epochs 3", "--epochs 1") if args.quick else TRAIN

    watch = _record.Run("bench_cli", args.quick)
    with tempfile.TemporaryDirectory() as cwd:
        train_lines = _run(train, cwd)
        export_lines = _run(EXPORT, cwd)
    text = "\n".join(train_lines)
    figures = {
        "train": {"command": train, "output": train_lines},
        "export": {"command": EXPORT, "output": export_lines},
        "fit_s": float(re.search(r"fit time: ([\d.]+) s", text).group(1)),
        "accuracy": float(re.search(r"test accuracy: ([\d.]+)", text).group(1)),
    }
    for command, lines in ((train, train_lines), (EXPORT, export_lines)):
        print("$ " + command, *lines, sep="\n")
    return _record.write(watch.record(figures), args)


if __name__ == "__main__":
    sys.exit(main())
