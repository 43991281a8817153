import os
import shutil
import signal
import subprocess
import sys

import pytest

import skmnist as skmnist_package


def skmnist(*args, env=None, **kwargs):
    """Run the installed console script."""
    exe = shutil.which("skmnist", path=os.path.dirname(sys.executable)) or shutil.which(
        "skmnist"
    )
    assert exe, "the skmnist console script is not installed"
    return subprocess.run(
        [exe, *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        **kwargs,
    )


def test_help_lists_commands_without_loading_keras():
    result = skmnist("--help")
    assert result.returncode == 0
    assert "train" in result.stdout
    code = "import sys; from skmnist.cli import main\ntry:\n main(['--help'])\nexcept SystemExit: pass\nprint('tensorflow' in sys.modules)"
    check = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert check.stdout.strip().endswith("False")


def test_version():
    import skmnist as package

    result = skmnist("--version")
    assert result.returncode == 0 and package.__version__ in result.stdout


def test_train_prints_epochs_and_test_accuracy(mnist_home, mnist_test, tmp_path):
    model = tmp_path / "model.skmnist"
    result = skmnist(
        "train",
        "--output",
        str(model),
        "--epochs",
        "2",
        "--hidden-layer-sizes",
        "32,64",
        "--random-state",
        "0",
        "--data-home",
        str(mnist_home),
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    epochs = [line for line in lines if line.startswith("epoch ")]
    assert len(epochs) == 2 and epochs[0].startswith("epoch 1/2  loss ")
    assert "accuracy" in epochs[1]
    accuracy = [line for line in lines if line.startswith("test accuracy:")]
    assert accuracy and float(accuracy[0].split()[2]) > 0.9
    assert any(line.startswith("fit time:") for line in lines)
    assert "Traceback" not in result.stderr
    assert lines[-1] == f"model saved to {model}"
    X_test, y_test = mnist_test
    assert skmnist_package.load(model).score(X_test, y_test) == float(
        accuracy[0].split()[2]
    )


def test_ctrl_c_stops_cleanly_and_saves_nothing(mnist_home, tmp_path):
    exe = shutil.which("skmnist", path=os.path.dirname(sys.executable))
    model = tmp_path / "model.skmnist"
    proc = subprocess.Popen(
        [
            exe,
            "train",
            "--epochs",
            "50",
            "--data-home",
            str(mnist_home),
            "--output",
            str(model),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    for line in proc.stdout:  # interrupt once training is under way
        if line.startswith("epoch 1/50"):
            break
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert err.strip().splitlines() == ["skmnist: interrupted, nothing saved"]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "args, message",
    [
        (["train", "--epochs", "0"], "--epochs: expected a positive integer"),
        (
            ["train", "--hidden-layer-sizes", "32,x"],
            "comma-separated positive layer widths",
        ),
        (["train", "--frobnicate"], "unrecognized arguments: --frobnicate"),
        ([], "the following arguments are required: COMMAND"),
    ],
)
def test_bad_usage_exits_2(args, message):
    result = skmnist(*args)
    assert result.returncode == 2
    assert message in result.stderr


def test_missing_data_offline_exits_1_with_one_line(tmp_path):
    result = skmnist(
        "train",
        "--data-home",
        str(tmp_path),
        env={"SKMNIST_MIRRORS": "http://127.0.0.1:9/"},
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("skmnist: error: MNIST files not found")
    assert "SKMNIST_DATA" in lines[0] and str(tmp_path) in lines[0]
    assert list(tmp_path.iterdir()) == []


def test_debug_shows_the_traceback(tmp_path):
    result = skmnist(
        "--debug",
        "train",
        "--data-home",
        str(tmp_path),
        env={"SKMNIST_MIRRORS": "http://127.0.0.1:9/"},
    )
    assert result.returncode == 1
    assert "Traceback" in result.stderr
