"""The real console script, run in a subprocess: every command and exit code.

Each command runs at least once as the installed console script in a process
of its own. The second look at a command (its --json output beside the text,
another option, another failure, more images) calls the same ``main`` in
this process, which has Keras loaded already: a new process pays
TensorFlow's start-up, about 6 s, each time. ``train --json`` stays a real
process, to show that stdout holds nothing but the JSON.
"""

import io
import json
import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest
from PIL import Image

import skmnist as skmnist_package
from skmnist.cli import main

from ._console import EXE, sigint_as_in_a_terminal
from ._console import run_skmnist as skmnist
from ._measure import measure
from .test_handwriting import write_png


@pytest.fixture(scope="module")
def trained(mnist_home, tmp_path_factory):
    """``skmnist train --output``: the model file and the command's result."""
    model = tmp_path_factory.mktemp("cli") / "model.skmnist"
    result = skmnist(
        "train",
        "--epochs",
        "2",
        "--hidden-layer-sizes",
        "32,64",
        "--validation-split",
        "0.1",
        "--random-state",
        "0",
        "--output",
        str(model),
    )
    return model, result


def test_help_lists_commands_without_loading_keras():
    result = skmnist("--help")
    assert result.returncode == 0
    for command in ("train", "evaluate", "predict", "search", "report", "export"):
        assert command in result.stdout
    code = "import sys; from skmnist.cli import main\ntry:\n main(['--help'])\nexcept SystemExit: pass\nprint('tensorflow' in sys.modules, 'keras' in sys.modules)"
    check = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert check.stdout.strip().endswith("False False")


@pytest.mark.parametrize(
    "command", ["train", "evaluate", "predict", "search", "report", "export"]
)
def test_each_command_has_help(command):
    result = skmnist(command, "--help")
    assert result.returncode == 0
    assert result.stdout.startswith(f"usage: skmnist {command}")


def test_version():
    result = skmnist("--version")
    assert result.returncode == 0 and skmnist_package.__version__ in result.stdout


@pytest.mark.slow
def test_train_prints_epochs_and_test_accuracy(trained, mnist_test):
    model, result = trained
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    epochs = [line for line in lines if line.startswith("epoch ")]
    assert len(epochs) == 2 and epochs[0].startswith("epoch 1/2  loss ")
    assert "val_accuracy" in epochs[1] and "s left" in epochs[0]
    accuracy = [line for line in lines if line.startswith("test accuracy:")]
    assert accuracy and float(accuracy[0].split()[2]) > 0.9
    assert any(line.startswith("fit time:") for line in lines)
    assert "Traceback" not in result.stderr
    assert lines[-1] == f"model saved to {model}"
    X_test, y_test = mnist_test
    loaded = skmnist_package.load(model)
    assert round(loaded.score(X_test, y_test), 4) == float(accuracy[0].split()[2])


@pytest.mark.slow
def test_train_json(mnist_home, tmp_path):
    # a compile cache others could write: refused, and said on stderr (which
    # the console script hides while TensorFlow starts)
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    result = skmnist(
        "train",
        "--epochs",
        "1",
        "--hidden-layer-sizes",
        "16",
        "--random-state",
        "0",
        "--json",
        env={"SKMNIST_COMPILE_CACHE": str(shared)},
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["epochs_trained"] == 1 and 0.8 < data["test_accuracy"] < 1
    assert len(data["history"]["loss"]) == 1
    assert "epoch 1/1" in result.stderr  # progress goes to stderr
    assert f"SKMNIST_COMPILE_CACHE={shared} is not used" in result.stderr
    assert list(shared.iterdir()) == []


@pytest.mark.slow
def test_ctrl_c_while_the_network_is_built_stops_cleanly_and_saves_nothing(
    mnist_home, tmp_path
):
    model = tmp_path / "model.skmnist"
    proc = subprocess.Popen(
        [EXE, "train", "--epochs", "50", "--output", str(model)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=sigint_as_in_a_terminal,
    )
    for line in proc.stdout:
        if line.startswith("training on"):
            break
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert err.strip().splitlines() == ["skmnist: interrupted, nothing saved"]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_on_a_terminal_a_progress_bar_then_ctrl_c_between_epochs(mnist_home, tmp_path):
    # One run with stdout on a terminal (stderr apart) checks the progress bar
    # and Ctrl-C between epochs, where it used to land inside TensorFlow and
    # crash the process in 1 run in 16: it stops cleanly and saves nothing.
    model = tmp_path / "model.skmnist"
    terminal, child = pty.openpty()
    proc = subprocess.Popen(
        [EXE, "train", "--epochs", "50", "--output", str(model)],
        stdout=child,
        stderr=subprocess.PIPE,
        preexec_fn=sigint_as_in_a_terminal,
    )
    os.close(child)
    screen, interrupted = b"", False
    try:
        while select.select([terminal], [], [], 120)[0]:
            try:
                chunk = os.read(terminal, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            screen += chunk
            # the line that sums up the first epoch, whole: between epochs
            if not interrupted and re.search(
                rb"\r\x1b\[Kepoch 1/50  loss .*\n", screen
            ):
                proc.send_signal(signal.SIGINT)
                interrupted = True
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
        os.close(terminal)
    screen = screen.decode(errors="replace")
    assert interrupted, screen[-2000:]
    assert re.search(
        r"\repoch 1/50 \[#* *\] loss \d\.\d{4}  accuracy \d\.\d{4}  \d+ s left", screen
    )
    assert proc.returncode == 130
    assert err.decode().strip().splitlines() == ["skmnist: interrupted, nothing saved"]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_ctrl_c_stops_a_search_not_only_its_current_fit(mnist_home, tmp_path):
    # Before: each fit deferred Ctrl-C by itself, so Ctrl-C cut the running
    # fit short (with a warning) and the search went on with the next ones.
    best = tmp_path / "best.skmnist"
    proc = subprocess.Popen(
        [EXE, "search", "--epochs", "1000", "--hidden-layer-sizes", "16", "32",
         "--cv", "3", "--max-samples", "2000", "--output", str(best)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=sigint_as_in_a_terminal,
    )  # fmt: skip
    try:
        for line in proc.stdout:
            if "[CV] END" in line:  # the first fit is done: well into the second
                time.sleep(1)
                break
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1] == "skmnist: interrupted, nothing saved"
    assert "Training interrupted" not in err
    assert out.count("[CV] END") == 0  # the first one was read above
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_evaluate(trained, mnist_test, capsys):
    model, _ = trained
    result = skmnist("evaluate", str(model))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("test accuracy: 0.9")
    assert "precision" in out and "recall" in out and "f1-score" in out
    matrix = out.split("columns: predicted class)\n")[1].splitlines()
    assert matrix[0].split() == ["true\\pred", *map(str, range(10))]
    rows = [list(map(int, line.split()[1:])) for line in matrix[1:]]
    assert np.array(rows).sum() == 10000 and len(rows) == 10

    assert main(["evaluate", str(model), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    X_test, y_test = mnist_test
    assert np.isclose(
        data["test_accuracy"], skmnist_package.load(model).score(X_test, y_test)
    )
    assert np.trace(data["confusion_matrix"]) == round(data["test_accuracy"] * 10000)
    assert set(data["per_class"]) == {str(d) for d in range(10)}


STYLES = ("plain", "enlarged", "inverted", "colour", "jpeg")


def _write_digit(image, style, path):
    """An MNIST digit as a file a user might have: see STYLES."""
    if style == "plain":  # as MNIST stores it: light ink on black
        Image.fromarray(image).save(path)
    elif style == "enlarged":  # dark ink on white paper, 10x larger
        Image.fromarray(255 - image).resize((280, 280), Image.Resampling.BICUBIC).save(
            path
        )
    elif style == "inverted":
        Image.fromarray(255 - image).save(path)
    elif style == "colour":  # blue ink on cream paper, RGB
        ink = image[..., None] / 255.0
        rgb = np.array([250, 240, 200]) * (1 - ink) + np.array([20, 40, 160]) * ink
        Image.fromarray(rgb.astype(np.uint8)).resize((100, 100)).save(path)
    else:  # a lossy JPEG of a dark-on-light scan
        Image.fromarray(255 - image).resize((150, 150)).convert("RGB").save(
            path, quality=70
        )


@pytest.mark.slow
def test_predict_image_files_in_every_style(trained, mnist_test, tmp_path, capsys):
    model, _ = trained
    X_test, y_test = mnist_test
    n = 40
    files, labels = [], []
    for style in STYLES:
        for i in range(n):
            suffix = ".jpg" if style == "jpeg" else ".png"
            path = tmp_path / f"{style}-{i}{suffix}"
            _write_digit(X_test[i], style, path)
            files.append(str(path))
            labels.append(int(y_test[i]))
    # (in this process: the console script's predict runs in the next tests)
    assert main(["predict", str(model), *files]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(files)
    predicted = []
    for line, path in zip(lines, files, strict=True):
        match = re.fullmatch(
            re.escape(path) + r": (\d) \((\d\.\d{3})\)(; low confidence)?", line
        )
        assert match, line
        predicted.append(int(match.group(1)))
    right = np.array(predicted) == np.array(labels)
    direct = skmnist_package.load(model).predict(X_test[:n]) == y_test[:n]
    for k, style in enumerate(STYLES):
        # as good as the model on the digits themselves, give or take a digit
        assert right[k * n : (k + 1) * n].sum() >= direct.sum() - 2, style


@pytest.mark.slow
def test_predict_reports_bad_files_and_predicts_the_rest(
    trained, mnist_test, tmp_path, capsys
):
    model, _ = trained
    good = tmp_path / "seven.png"
    _write_digit(mnist_test[0][0], "enlarged", good)
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    missing = tmp_path / "missing.png"
    blank = tmp_path / "blank.png"
    Image.new("L", (50, 50), 255).save(blank)
    files = [str(text), str(good), str(missing), str(blank)]
    assert main(["predict", str(model), *files, "--top-k", "3"]) == 1
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0] == f"{text}: error: not an image file Pillow can read"
    assert re.fullmatch(
        re.escape(str(good)) + r": 7 \(\d\.\d{3}\), \d \(\d\.\d{3}\), \d \(\d\.\d{3}\)",
        lines[1],
    )
    assert lines[2] == f"{missing}: error: no such file"
    assert lines[3] == f"{blank}: error: no digit found: the image is blank"
    assert err.strip() == "skmnist: error: some images could not be read"

    assert main(["predict", str(model), str(good), str(missing), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data[0]["predictions"][0]["class"] == 7
    assert data[1] == {"file": str(missing), "error": "no such file"}


@pytest.mark.slow
def test_predict_goes_on_after_hostile_images(trained, mnist_test, tmp_path):
    # Before: the pixel bomb stopped the command (exit 1, nothing predicted);
    # the 12,000 x 12,000 image was decoded whole (4.5 GB, 20 s). The command
    # alone, Keras loaded, peaks at about 0.9 GB.
    model, _ = trained
    good = tmp_path / "seven.png"
    _write_digit(mnist_test[0][0], "enlarged", good)
    deep = tmp_path / "seven16.png"  # the same 7 in 16 bits
    shades = np.asarray(Image.open(good)).astype("<u2") * 257
    Image.frombytes("I;16", shades.shape[::-1], shades.tobytes()).save(deep)
    bomb = write_png(  # 1-bit: a 110 kB file that Pillow decodes to 900 MB
        tmp_path / "bomb.png", 30_000, 30_000, lambda i: bytes(3_750), bit_depth=1
    )
    large = write_png(tmp_path / "large.png", 12_000, 12_000, lambda i: bytes(12_000))
    cut = tmp_path / "cut.png"
    cut.write_bytes(good.read_bytes()[:300])
    files = [bomb, good, large, cut, deep]
    measured = measure([EXE, "predict", model, *files], timeout=120, limit_mb=4096)
    assert measured.returncode == 1, measured.stderr
    lines = measured.stdout.splitlines()
    assert len(lines) == len(files)
    assert lines[0].startswith(f"{bomb}: error: the image is too large: 900,000,000")
    assert re.fullmatch(re.escape(str(good)) + r": 7 \(\d\.\d{3}\)", lines[1])
    assert lines[2].startswith(
        f"{large}: error: the image is too large: 12000 x 12000 = 144,000,000 pixels"
    )
    assert lines[3].startswith(f"{cut}: error: cannot read the image (")
    assert re.fullmatch(re.escape(str(deep)) + r": 7 \(\d\.\d{3}\)", lines[4])
    assert measured.stderr.strip().endswith(
        "skmnist: error: some images could not be read"
    )
    print(f"{measured.peak_mb:.0f} MB, {measured.seconds:.1f} s")
    assert measured.peak_mb < 1200
    assert measured.seconds < 60
    for path in files:
        path.unlink()


@pytest.mark.slow
def test_predict_reports_any_failure_to_read_an_image(
    trained, mnist_test, tmp_path, monkeypatch, capsys
):
    # Whatever reading one image raises, it is that image's error line.
    from skmnist import _handwriting

    model, _ = trained
    good = tmp_path / "seven.png"
    _write_digit(mnist_test[0][0], "enlarged", good)
    failures = {
        "bomb.png": Image.DecompressionBombError("Image size (9 pixels) exceeds"),
        "huge.png": MemoryError(),
        "odd.png": SyntaxError("broken PNG file"),
    }
    read_digit = _handwriting.read_digit

    def failing(file, shape):  # given the open file
        name = os.path.basename(file.name)
        if name in failures:
            raise failures[name]
        return read_digit(file, shape)

    for name in failures:
        (tmp_path / name).write_bytes(good.read_bytes())
    monkeypatch.setattr(_handwriting, "read_digit", failing)
    monkeypatch.chdir(tmp_path)
    assert main(["predict", str(model), *failures, str(good)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[:3] == [
        "bomb.png: error: cannot read the image (DecompressionBombError: Image size "
        "(9 pixels) exceeds)",
        "huge.png: error: out of memory reading the image",
        "odd.png: error: cannot read the image (SyntaxError: broken PNG file)",
    ]
    assert re.fullmatch(re.escape(str(good)) + r": 7 \(\d\.\d{3}\)", lines[3])


@pytest.fixture(scope="module")
def small_model(mnist_train, tmp_path_factory):
    """A pipeline fitted in this process on 5,000 images, saved as a model file."""
    X, y = mnist_train
    pipe = skmnist_package.make_mnist_pipeline(epochs=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # not converged in one epoch
        pipe.fit(X[:5000], y[:5000])
    path = tmp_path_factory.mktemp("export") / "model.skmnist"
    skmnist_package.save(pipe, path)
    return path


def test_predict_refuses_special_files_without_blocking(
    small_model, mnist_test, tmp_path
):
    # Before: the FIFO blocked the command for ever, and the image before it
    # was never reported.
    import socket

    good = tmp_path / "seven.png"
    _write_digit(mnist_test[0][0], "enlarged", good)
    fifo = tmp_path / "fifo.png"
    os.mkfifo(fifo)
    to_fifo = tmp_path / "link.png"
    to_fifo.symlink_to(fifo)
    folder = tmp_path / "folder.png"
    folder.mkdir()
    sock = tmp_path / "sock.png"
    listening = socket.socket(socket.AF_UNIX)
    listening.bind(str(sock))
    loop = tmp_path / "loop.png"
    loop.symlink_to(loop)
    files = [good, fifo, to_fifo, folder, "/dev/zero", sock, loop, good]
    try:
        result = skmnist("predict", str(small_model), *map(str, files), timeout=120)
    finally:
        listening.close()
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[1:7] == [
        f"{fifo}: error: not a regular file: a FIFO (named pipe)",
        f"{to_fifo}: error: not a regular file: a FIFO (named pipe)",
        f"{folder}: error: not a regular file: a directory",
        "/dev/zero: error: not a regular file: a character device",
        f"{sock}: error: not a regular file: a socket",
        f"{loop}: error: [Errno 40] Too many levels of symbolic links: '{loop}'",
    ]
    assert re.fullmatch(re.escape(str(good)) + r": 7 \(\d\.\d{3}\)", lines[0])
    assert lines[-1] == lines[0] and len(lines) == len(files)


def test_predict_reports_each_image_as_it_is_known(small_model, mnist_test, tmp_path):
    # Before: every line came at the end, so Ctrl-C during a long run (or a
    # file that never ends) lost the answers already known.
    good = tmp_path / "seven.png"
    _write_digit(mnist_test[0][0], "enlarged", good)
    for json_flag in ([], ["--json"]):
        proc = subprocess.Popen(
            [EXE, "predict", str(small_model), *[str(good)] * 20_000, *json_flag],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=sigint_as_in_a_terminal,
        )
        try:
            first = proc.stdout.readline()
            second = proc.stdout.readline()
            running = proc.poll() is None
            proc.send_signal(signal.SIGINT)
            rest, err = proc.communicate(timeout=60)
        finally:
            proc.kill()
        assert running and proc.returncode == 130, err
        if json_flag:
            assert first == "[\n" and second == "  {\n"
        else:
            assert re.fullmatch(re.escape(str(good)) + r": 7 \(\d\.\d{3}\)\n", first)
        assert rest.count(str(good)) < 20_000 - 1


HOSTILE_LABELS = [
    "seven\nforged.png: 1 (1.000)",  # a forged output line
    "\x1b]0;owned\x07\x1b[2J",  # retitles and clears the terminal
    "\u202eevil",  # right-to-left override: the rest reads backwards
    "nul\x00byte",
    "tab\there",
    "zero\u200bwidth",
    "line\u2028separator",
    "\x9bcsi",  # the 8-bit control sequence introducer
    "é ok",  # printable: unchanged
    "plain",
]


def test_untrusted_text_is_escaped_on_the_terminal_and_exact_in_json(tmp_path, capsys):
    # Before: labels and file names went to the terminal raw.
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    labels = np.array(HOSTILE_LABELS, dtype=object)[y]
    pipe = skmnist_package.make_mnist_pipeline(epochs=30, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe.fit(X.reshape(-1, 8, 8) * 15, labels)
    model = tmp_path / "hostile.skmnist"
    skmnist_package.save(pipe, model)
    # every label, from an image of each class; a file name with controls too
    files = []
    for k in range(10):
        path = tmp_path / f"digit{k}\n\x1b[1m.png"
        Image.fromarray((X[y == k][0].reshape(8, 8) * 15).astype(np.uint8)).save(path)
        files.append(str(path))
    result = skmnist("predict", str(model), *files, "--top-k", "10")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 10  # no forged line
    assert not re.search(
        r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b\u2028\u202e]", result.stdout
    )
    for line, path in zip(lines, files, strict=True):
        escaped_path = path.replace("\n", "\\x0a").replace("\x1b", "\\x1b")
        assert line.startswith(f"{escaped_path}: ")
    everything = result.stdout
    for fragment in [
        "seven\\x0aforged.png: 1 (1.000)",
        "\\x1b]0;owned\\x07\\x1b[2J",
        "\\u202eevil",
        "nul\\x00byte",
        "tab\\x09here",
        "zero\\u200bwidth",
        "line\\u2028separator",
        "\\x9bcsi",
        "é ok",
        "plain",
    ]:
        assert fragment in everything, fragment
    # --json: the labels and the file names exactly
    assert main(["predict", str(model), *files, "--top-k", "10", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [item["file"] for item in data] == files
    assert {p["class"] for p in data[0]["predictions"]} == set(HOSTILE_LABELS)
    # a file name that is not UTF-8 (as Python decodes it in sys.argv), and
    # an error line naming a hostile path
    raw = os.fsdecode(os.path.join(os.fsencode(tmp_path), b"\xff\x1b[2J.png"))
    assert main(["predict", str(model), raw]) == 1
    assert (
        capsys.readouterr().out
        == f"{tmp_path}/\\xff\\x1b[2J.png: error: no such file\n"
    )


def test_predict_json_never_prints_nan(small_model, mnist_test, tmp_path, capsys):
    # A model file whose float64 weights overflow float32 predicted NaN, and
    # --json printed NaN, which is not JSON.
    import zipfile

    with zipfile.ZipFile(small_model) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    with np.load(io.BytesIO(members["weights.npz"])) as npz:
        weights = {key: npz[key] for key in npz.files}
    first = sorted(weights)[0]
    weights[first] = np.full(weights[first].shape, 1e300)
    buffer = io.BytesIO()
    np.savez(buffer, **weights)
    members["weights.npz"] = buffer.getvalue()
    bad = tmp_path / "overflow.skmnist"
    with zipfile.ZipFile(bad, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    good = tmp_path / "seven.png"
    _write_digit(mnist_test[0][0], "enlarged", good)
    returncode = main(["predict", str(bad), str(good), "--json"])
    out, err = capsys.readouterr()

    def refuse(constant):
        raise AssertionError(f"{constant} in the JSON output")

    if returncode == 0:  # predicted: the numbers are JSON's
        data = json.loads(out, parse_constant=refuse)
        assert data[0]["file"] == str(good)
    else:  # or the model is refused, in one line
        assert out == "" and len(err.splitlines()) == 1


def test_predict_with_a_pipeline_fitted_on_flat_rows(
    mnist_train, mnist_test, tmp_path, capsys
):
    # Before: "not enough values to unpack (expected 2, got 1)" for every image.
    X, y = mnist_train
    pipe = skmnist_package.make_mnist_pipeline(epochs=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe.fit(X[:3000].reshape(3000, -1), y[:3000])
    model = tmp_path / "flat.skmnist"
    skmnist_package.save(pipe, model)
    good = tmp_path / "seven.png"
    _write_digit(mnist_test[0][0], "enlarged", good)
    assert main(["predict", str(model), str(good)]) == 0
    assert re.fullmatch(
        re.escape(str(good)) + r": \d \(\d\.\d{3}\)(; low confidence)?",
        capsys.readouterr().out.strip(),
    )


def test_export_writes_an_onnx_file_that_answers_as_the_model(
    small_model, mnist_test, tmp_path
):
    ort = pytest.importorskip("onnxruntime")
    out = tmp_path / "digits.onnx"
    result = skmnist("export", str(small_model), str(out))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"wrote {out} (") and "ONNX opset 17" in lines[0]
    assert lines[1:] == [
        "  input  images: uint8 (N, 28, 28)",
        "  output label: int64 (N)",
        "  output probabilities: float32 (N, 10)",
    ]
    assert [p.name for p in tmp_path.iterdir()] == ["digits.onnx"]  # no temporary
    X_test, _ = mnist_test
    model = skmnist_package.load(small_model)
    label, proba = ort.InferenceSession(str(out)).run(None, {"images": X_test})
    np.testing.assert_allclose(proba, model.predict_proba(X_test), rtol=0, atol=1e-5)
    np.testing.assert_array_equal(label, model.predict(X_test))


def test_export_json_and_input_dtype(small_model, tmp_path, capsys):
    out = tmp_path / "digits.onnx"
    code = main(
        ["export", str(small_model), str(out), "--input-dtype", "float32", "--json"]
    )
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["file"] == str(out) and report["bytes"] == out.stat().st_size
    assert report["inputs"] == [
        {"name": "images", "dtype": "float32", "shape": ["N", 28, 28]}
    ]
    assert [o["name"] for o in report["outputs"]] == ["label", "probabilities"]


def test_export_without_onnx_exits_1_naming_the_extra(small_model, tmp_path):
    # onnx made unimportable in a fresh process running the console script's main
    out = tmp_path / "digits.onnx"
    code = (
        "import sys; sys.modules['onnx'] = None\n"
        "from skmnist.cli import main\n"
        f"code = main(['export', {str(small_model)!r}, {str(out)!r}])\n"
        "print('keras' in sys.modules); sys.exit(code)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True
    )
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("skmnist: error: skmnist.to_onnx needs the onnx package")
    assert 'pip install "skmnist[onnx]"' in line
    assert result.stdout.strip() == "False"  # refused before Keras started
    assert not out.exists()


def test_export_to_a_missing_directory_exits_1(small_model, tmp_path, capsys):
    out = tmp_path / "nowhere" / "digits.onnx"
    assert main(["export", str(small_model), str(out)]) == 1
    assert capsys.readouterr().err.strip() == (
        f"skmnist: error: cannot write {out}: No such file or directory"
    )


def test_search_ranks_saves_the_best_and_the_results(mnist_home, tmp_path):
    best = tmp_path / "best.skmnist"
    results = tmp_path / "results.csv"
    result = skmnist(
        "search",
        "--epochs",
        "1,2",
        "--hidden-layer-sizes",
        "16",
        "32,64",
        "--cv",
        "2",
        "--max-samples",
        "1500",
        "--output",
        str(best),
        "--results",
        str(results),
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "searching 4 candidates x 2 folds on 1500 images" in out
    assert out.count("[CV] END") == 8  # progress, one line per fit
    table = out.split("hidden layers\n")[1].split("\n\n")[0].splitlines()
    assert [int(line.split()[0]) for line in table] == [1, 2, 3, 4]
    scores = [float(line.split()[1]) for line in table]
    assert scores == sorted(scores, reverse=True)
    assert f"best model saved to {best}" in out
    rows = results.read_text().splitlines()
    assert rows[0].startswith("rank,mean_test_score") and len(rows) == 5
    assert skmnist_package.load(best)[-1].n_iter_ in (1, 2)


def test_a_warning_is_one_line_once_and_in_full_with_v(mnist_home):
    # Before: each fit's ConvergenceWarning in two lines, with the path of
    # scikit-learn's source in the virtual environment.
    args = ["search", "--epochs", "1", "--hidden-layer-sizes", "8", "--cv", "2"]
    args += ["--max-samples", "300"]
    quiet = skmnist(*args)
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr.splitlines() == [
        "skmnist: warning: Stochastic Optimizer: Maximum iterations (1) reached and "
        "the optimization hasn't converged yet. (ConvergenceWarning)"
    ]
    verbose = skmnist(*args, "-v")
    assert verbose.returncode == 0, verbose.stderr
    assert re.search(r"\.py:\d+: ConvergenceWarning: Stochastic", verbose.stderr)
    assert "skmnist: warning" not in verbose.stderr


@pytest.mark.slow
def test_search_json(mnist_home, tmp_path, capsys):
    results = tmp_path / "results.json"
    args = ["--epochs", "1", "--hidden-layer-sizes", "16", "--cv", "2"]
    args += ["--max-samples", "600", "--results", str(results), "--json"]
    assert main(["search", *args]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["best_params"] == {"mlp__epochs": 1, "mlp__hidden_layer_sizes": [16]}
    assert json.loads(results.read_text()) == data["results"]


@pytest.mark.slow
def test_report_writes_figures_and_a_page(trained, tmp_path):
    model, _ = trained
    results = tmp_path / "results.json"
    results.write_text(
        json.dumps(
            [
                {
                    "mean_test_score": 0.9,
                    "param_mlp__epochs": e,
                    "param_mlp__hidden_layer_sizes": w,
                }
                for e in (5, 10)
                for w in ([16], [32, 64])
            ]
        )
    )
    out_dir = tmp_path / "report"
    result = skmnist(
        "report",
        str(model),
        "--output-dir",
        str(out_dir),
        "--search-results",
        str(results),
    )
    assert result.returncode == 0, result.stderr
    names = {
        "confusion_matrix.png",
        "per_class_accuracy.png",
        "learning_curves.png",
        "misclassified.png",
        "sample_predictions.png",
        "search_heatmap.png",
        "index.html",
    }
    assert {p.name for p in out_dir.iterdir()} == names
    for name in names - {"index.html"}:
        image = np.asarray(Image.open(out_dir / name).convert("L"))
        assert image.shape[0] > 200 and image.shape[1] > 300 and image.std() > 10, name
    page = (out_dir / "index.html").read_text()
    assert page.count('src="data:image/png;base64,') == 6
    assert re.search(r"Test accuracy <b>0\.9\d{3}</b> on 10000 images", page)
    assert page.count("<tr><td>") == 10  # a row per class


@pytest.mark.parametrize(
    "args, message",
    [
        (["train", "--epochs", "0"], "--epochs: expected a positive integer"),
        (
            ["train", "--hidden-layer-sizes", "32,x"],
            "comma-separated positive layer widths",
        ),
        (["train", "--dropout", "1.5"], "--dropout: expected a number in [0, 1)"),
        (["train", "--frobnicate"], "unrecognized arguments: --frobnicate"),
        ([], "the following arguments are required: COMMAND"),
        (["evaluate"], "the following arguments are required: MODEL"),
        (["predict", "model.skmnist"], "the following arguments are required: IMAGE"),
        (["search", "--epochs", "5,x"], "comma-separated positive integers"),
        (["search", "--cv", "0"], "--cv: expected an integer of at least 2"),
        (
            ["report", "model.skmnist"],
            "the following arguments are required: --output-dir",
        ),
        (["fly"], "invalid choice: 'fly'"),
        # valid for argparse's int, refused by the estimator seconds later
        (["train", "--random-state", "-1"], "--random-state: expected an integer"),
        (["train", "--random-state", str(2**32)], "from 0 to 4294967295"),
        (["search", "--random-state", "-5"], "--random-state: expected an integer"),
        (["search", "--cv", "1"], "--cv: expected an integer of at least 2"),
        (["search", "--n-jobs", "0"], "--n-jobs: expected a nonzero integer"),
        (["train", "--batch-size", "9" * 12], "--batch-size: expected a positive"),
        (["train", "--epochs", "9" * 5000], "--epochs: expected a positive integer"),
        # digits int() refuses or takes: "invalid _positive_int value" before
        (["train", "--epochs", "\u00b2"], "--epochs: expected a positive integer"),
        (["predict", "m", "x.png", "--top-k", "\u0663"], "--top-k: expected a"),
        (["search", "--epochs", "1,\u00b2"], "comma-separated positive integers"),
        (["train", "--hidden-layer-sizes", "\u00b2"], "positive layer widths"),
        (["search", "--scheduler", "local:\u00b2"], "expected local:N"),
        (["train", "--validation-split", "nan"], "expected a number in [0, 1)"),
        (["train", "--dropout", "1e999"], "expected a number in [0, 1)"),
    ],
)
def test_bad_usage_exits_2(args, message):
    result = skmnist(*args)
    assert result.returncode == 2
    assert result.stderr.startswith("usage: skmnist")
    assert message in result.stderr
    assert not re.search(r"invalid \w+ value", result.stderr)  # a function's name


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


@pytest.mark.parametrize("command", ["evaluate", "predict", "report", "export"])
def test_a_file_that_is_not_a_model_exits_1(command, tmp_path):
    bogus = tmp_path / "model.pkl"
    bogus.write_bytes(b"\x80\x04not a model")
    extra = {
        "predict": ["x.png"],
        "report": ["--output-dir", str(tmp_path)],
        "export": [str(tmp_path / "model.onnx")],
    }
    result = skmnist(command, str(bogus), *extra.get(command, []))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"skmnist: error: Cannot load {bogus} as an skmnist model: it is not a zip "
        "archive (it has no end of central directory); pickle and joblib files are not model files."
    ]


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


def test_predict_refuses_a_model_file_with_a_huge_image_shape(
    trained, mnist_test, tmp_path
):
    # one edited number once made this command grow to 24 GB
    import zipfile

    model, _ = trained
    with zipfile.ZipFile(model) as archive:
        meta = json.loads(archive.read("skmnist.json"))
        weights = archive.read("weights.npz")
    meta["steps"][0]["state"]["image_shape_"] = {"tuple": [100_000, 100_000]}
    bad = tmp_path / "bad.skmnist"
    with zipfile.ZipFile(bad, "w") as archive:
        archive.writestr("skmnist.json", json.dumps(meta))
        archive.writestr("weights.npz", weights)
    good = tmp_path / "seven.png"
    _write_digit(mnist_test[0][0], "enlarged", good)
    run = measure([EXE, "predict", bad, good], timeout=120, limit_mb=4096)
    assert run.returncode == 1
    assert "image_shape_ is (100000, 100000)" in run.stderr
    assert run.peak_mb < 400, f"{run.peak_mb:.0f} MB"  # refused before Keras


# -- Output paths: checked before the work, and no output lost to another ----------
#
# Every command that writes files checks each of them before it starts (before
# MNIST is read or Keras started); when a write still fails at the end, the
# others are written, the results shown, and the failure named with the path
# given (exit 1).


def _unwritable_outputs(tmp_path):
    """(arguments, the path refused, the reason after "cannot write PATH: ")."""
    missing = tmp_path / "no-such-dir"
    directory, file, fifo = tmp_path / "a-dir", tmp_path / "a-file", tmp_path / "a-fifo"
    directory.mkdir()
    file.write_text("")
    os.mkfifo(fifo)
    model = tmp_path / "no-model.skmnist"  # the output is refused first
    train = ["train", "--epochs", "1", "--hidden-layer-sizes", "8", "--output"]
    search = ["search", "--epochs", "1", "--max-samples", "300", "--cv", "2"]
    results = missing / "r.csv"
    return [
        ([*train, missing / "m.skmnist"], missing / "m.skmnist", "No such file or"),
        ([*train, directory], directory, "it is a directory"),
        ([*train, fifo], fifo, "it exists and is not a regular file"),
        ([*search, "--output", tmp_path / "m", "--results", results], results, "No"),
        (["export", model, missing / "m.onnx"], missing / "m.onnx", "No such file"),
        (["report", model, "--output-dir", file], file, "it is not a directory"),
    ]


def test_outputs_that_cannot_be_written_fail_before_the_work(tmp_path):
    for args, path, reason in _unwritable_outputs(tmp_path):
        result = skmnist(*map(str, args))
        assert result.returncode == 1, args
        assert result.stderr.startswith(
            f"skmnist: error: cannot write {path}: {reason}"
        ), result.stderr
        assert result.stdout == "", args  # nothing trained, searched or loaded
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-dir", "a-fifo", "a-file"]
    assert (tmp_path / "a-fifo").is_fifo() and not any((tmp_path / "a-dir").iterdir())


def test_two_outputs_naming_one_file_fail_before_the_search(tmp_path):
    out = tmp_path / "out"
    result = skmnist("search", "--output", str(out), "--results", str(out))
    assert result.returncode == 1 and result.stdout == ""
    assert "they are the same file" in result.stderr and not out.exists()


def _small_disk():
    # The kernel refuses to write a file past 8 KiB (EFBIG), as a disk that
    # fills up refuses a long file (a model) and takes a short one (results).
    import resource

    resource.setrlimit(resource.RLIMIT_FSIZE, (8192, 8192))


@pytest.mark.slow
def test_train_whose_model_cannot_be_written_still_reports_its_accuracy(
    mnist_home, tmp_path
):
    model = tmp_path / "m.skmnist"
    model.write_bytes(b"the previous model")
    args = ["--epochs", "1", "--hidden-layer-sizes", "8", "--output", str(model)]
    result = skmnist("train", *args, preexec_fn=_small_disk)
    assert result.returncode == 1
    assert re.search(r"^test accuracy: 0\.\d{4} on 10000 images$", result.stdout, re.M)
    assert "model saved" not in result.stdout
    assert result.stderr.splitlines()[-1] == (
        f"skmnist: error: cannot write {model}: File too large"
    )
    assert model.read_bytes() == b"the previous model"
    assert [p.name for p in tmp_path.iterdir()] == ["m.skmnist"]


@pytest.mark.slow
def test_search_writes_its_results_when_the_model_cannot_be_written(
    mnist_home, tmp_path
):
    model, results = tmp_path / "best.skmnist", tmp_path / "results.csv"
    args = ["--epochs", "1", "--hidden-layer-sizes", "8", "--cv", "2"]
    args += ["--max-samples", "300", "--output", str(model), "--results", str(results)]
    result = skmnist("search", *args, preexec_fn=_small_disk)
    assert result.returncode == 1
    assert f"results saved to {results}" in result.stdout
    assert "best: epochs 1, hidden layers 8" in result.stdout
    assert result.stderr.splitlines()[-1] == (
        f"skmnist: error: cannot write {model}: File too large"
    )
    assert results.read_text().splitlines()[1].startswith("1,")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.csv"]


def test_export_over_its_own_model_file_is_refused(small_model, tmp_path):
    link = tmp_path / "model.onnx"
    link.symlink_to(small_model)  # the same file by another name
    before = small_model.read_bytes()
    for out in (small_model, link):
        result = skmnist("export", str(small_model), str(out))
        assert result.returncode == 1 and result.stdout == ""
        assert result.stderr == (
            f"skmnist: error: cannot write {out}: it is the model file "
            f"{small_model}, which the ONNX file would overwrite\n"
        )
    assert small_model.read_bytes() == before


def test_train_help_prints_the_best_recipe_in_full():
    result = skmnist("train", "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    assert (
        "--preset best: hidden layers 512,256, batch size 128, 15 epochs, Adam at "
        "learning rate 0.001 halved every 7 epochs, augmentation (rotation 10, "
        "shift 2, zoom 0.1)."
    ) in text


@pytest.mark.slow
def test_train_preset_best_and_augment(mnist_home, tmp_path, capsys):
    from skmnist import ImageAugmentation, load

    model = tmp_path / "best.skmnist"
    # The recipe on a slice, with a smaller network: given options override it.
    result = skmnist(
        *("train", "--preset", "best", "--epochs", "8", "--hidden-layer-sizes", "16"),
        *("--max-samples", "500", "--random-state", "0", "--json"),
        *("--output", str(model)),
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["epochs_trained"] == 8 and data["model"] == str(model)
    assert data["history"]["learning_rate"] == pytest.approx([0.001] * 7 + [0.0005])
    assert "training on 500 images: hidden layers 16, batch size 128, augmented" in (
        result.stderr
    )
    mlp = load(model).named_steps["mlp"]
    assert (mlp.batch_size, mlp.epochs) == (128, 8)
    assert mlp.augmentation.get_params() == (
        ImageAugmentation(rotation=10, shift=2, zoom=0.1).get_params()
    )
    model = tmp_path / "augmented.skmnist"
    args = ["train", "--augment", "--epochs", "1", "--hidden-layer-sizes", "8"]
    assert main([*args, "--max-samples", "300", "--output", str(model)]) == 0
    assert "batch size 100, augmented" in capsys.readouterr().out
    augmentation = load(model).named_steps["mlp"].augmentation
    assert augmentation.get_params() == ImageAugmentation().get_params()
