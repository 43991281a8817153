"""fetch_mnist: where it looks, what it reads, what it downloads, bad files."""

import gzip
import hashlib
import inspect
import os
import shutil
import stat
import struct
import subprocess
import sys
import time
import zlib

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from skmnist import fetch_mnist
from skmnist.datasets import _parse_idx

from ._measure import measure_python
from ._mirror import MNIST_FILES
from ._properties import property_settings


def _snapshot(directory):
    return {
        p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in directory.iterdir()
    }


def test_train_and_test_subsets(mnist_home):
    train = fetch_mnist("train", data_home=mnist_home)
    test = fetch_mnist("test", data_home=mnist_home)
    assert train.images.shape == (60000, 28, 28)
    assert test.images.shape == (10000, 28, 28)
    assert train.images.dtype == np.uint8 and train.target.dtype == np.int64
    assert train.data.shape == (60000, 784)
    assert np.shares_memory(train.data, train.images)
    # the first labels of the official files
    assert test.target[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert train.target[:5].tolist() == [5, 0, 4, 1, 9]
    assert np.bincount(train.target).tolist() == [
        5923,
        6742,
        5958,
        6131,
        5842,
        5421,
        5918,
        6265,
        5851,
        5949,
    ]
    assert train.target_names.tolist() == list(range(10))
    assert "MNIST" in train.DESCR and "LeCun" in train.DESCR
    assert train.images.max() == 255 and train.images.min() == 0


def test_all_is_train_then_test(mnist_home):
    X, y = fetch_mnist("all", data_home=mnist_home, return_X_y=True)
    X_test, y_test = fetch_mnist("test", data_home=mnist_home, return_X_y=True)
    assert X.shape == (70000, 28, 28) and y.shape == (70000,)
    np.testing.assert_array_equal(X[60000:], X_test)
    np.testing.assert_array_equal(y[60000:], y_test)


def test_return_X_y_gives_images_and_labels(mnist_home):
    X, y = fetch_mnist("test", data_home=mnist_home, return_X_y=True)
    assert X.shape == (10000, 28, 28) and y.shape == (10000,)


def test_returned_arrays_are_the_callers_own(mnist_home):
    X, y = fetch_mnist("test", data_home=mnist_home, return_X_y=True)
    X[:] = 0
    y[:] = 3
    X2, y2 = fetch_mnist("test", data_home=mnist_home, return_X_y=True)
    assert X2.max() == 255 and y2[0] == 7


def test_unknown_subset_is_refused(mnist_home):
    with pytest.raises(
        ValueError, match="subset must be one of 'train', 'test', 'all'"
    ):
        fetch_mnist("validation", data_home=mnist_home)


def test_reads_without_writing(mnist_home):
    before = _snapshot(mnist_home)
    fetch_mnist("all", data_home=mnist_home, download_if_missing=True)
    assert _snapshot(mnist_home) == before


def test_read_only_directory(mnist_home, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    for name in MNIST_FILES:
        shutil.copy(mnist_home / name, ro / name)
    ro.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        X, y = fetch_mnist("test", data_home=ro, return_X_y=True)
        assert X.shape == (10000, 28, 28)
        assert sorted(p.name for p in ro.iterdir()) == sorted(MNIST_FILES)
    finally:
        ro.chmod(stat.S_IRWXU)


def test_where_it_looks(mnist_home, tmp_path, monkeypatch):
    # data_home beats SKMNIST_DATA, which beats SCIKIT_LEARN_DATA/mnist
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("SKMNIST_DATA", str(empty))
    assert fetch_mnist("test", data_home=mnist_home).images.shape[0] == 10000
    with pytest.raises(FileNotFoundError, match=str(empty)):
        fetch_mnist("test", download_if_missing=False)

    sklearn_home = tmp_path / "sklearn_home"
    (sklearn_home / "mnist").mkdir(parents=True)
    for name in MNIST_FILES[2:]:
        shutil.copy(mnist_home / name, sklearn_home / "mnist" / name)
    monkeypatch.delenv("SKMNIST_DATA")
    monkeypatch.setenv("SCIKIT_LEARN_DATA", str(sklearn_home))
    assert fetch_mnist("test", download_if_missing=False).images.shape[0] == 10000


def test_missing_offline_names_files_directory_and_remedies(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        fetch_mnist("all", data_home=tmp_path, download_if_missing=False)
    message = str(info.value)
    for name in MNIST_FILES:
        assert name in message
    assert str(tmp_path) in message
    assert "SKMNIST_DATA" in message
    assert "storage.googleapis.com" in message
    assert list(tmp_path.iterdir()) == []


def test_decompressed_files_are_read_too(mnist_home, tmp_path):
    for name in MNIST_FILES[2:]:
        (tmp_path / name[:-3]).write_bytes(
            gzip.decompress((mnist_home / name).read_bytes())
        )
    X, y = fetch_mnist(
        "test", data_home=tmp_path, download_if_missing=False, return_X_y=True
    )
    assert X.shape == (10000, 28, 28) and y[0] == 7


def _write_gz(path, payload):
    path.write_bytes(gzip.compress(payload))


def test_corrupt_file_is_reported_with_both_hashes(mnist_home, tmp_path):
    for name in MNIST_FILES[2:]:
        shutil.copy(mnist_home / name, tmp_path / name)
    labels = bytearray(gzip.decompress((tmp_path / MNIST_FILES[3]).read_bytes()))
    labels[100] = (labels[100] + 1) % 10
    _write_gz(tmp_path / MNIST_FILES[3], bytes(labels))
    with pytest.raises(OSError) as info:
        fetch_mnist("test", data_home=tmp_path, download_if_missing=False)
    message = str(info.value)
    assert "t10k-labels-idx1-ubyte.gz is corrupt" in message
    assert hashlib.sha256(bytes(labels)).hexdigest() in message
    assert "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2" in message
    assert "Delete it" in message


def test_truncated_gzip_is_reported(mnist_home, tmp_path):
    for name in MNIST_FILES[2:]:
        shutil.copy(mnist_home / name, tmp_path / name)
    data = (tmp_path / MNIST_FILES[2]).read_bytes()
    (tmp_path / MNIST_FILES[2]).write_bytes(data[: len(data) // 2])
    with pytest.raises(
        OSError, match="t10k-images-idx3-ubyte.gz is corrupt: not a complete gzip"
    ):
        fetch_mnist("test", data_home=tmp_path, download_if_missing=False)


def test_idx_header_checks():
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    good = bytes([0, 0, 8, 3]) + np.array([2, 3, 4], ">u4").tobytes() + images.tobytes()
    np.testing.assert_array_equal(_parse_idx(good, "x", 3), images)
    with pytest.raises(ValueError, match="bad IDX magic number 0x00000903"):
        _parse_idx(bytes([0, 0, 9, 3]) + good[4:], "x", 3)
    with pytest.raises(ValueError, match="bad IDX magic number 0x00000801"):
        _parse_idx(bytes([0, 0, 8, 1]) + good[4:], "x", 3)
    with pytest.raises(
        ValueError,
        match=r"announces shape \(2, 3, 4\) \(24 bytes\) but the file holds 23",
    ):
        _parse_idx(good[:-1], "x", 3)
    with pytest.raises(ValueError, match="too short for an IDX header"):
        _parse_idx(good[:7], "x", 3)


def test_downloads_from_a_mirror_and_verifies(mirror, tmp_path, capsys):
    home = tmp_path / "home"
    X, y = fetch_mnist(
        "test",
        data_home=home,
        mirrors=[mirror + "missing/", mirror + "good/"],
        delay=0,
        return_X_y=True,
    )
    assert X.shape == (10000, 28, 28) and y[:3].tolist() == [7, 2, 1]
    # only the verified files, no temporary leftovers
    assert sorted(p.name for p in home.iterdir()) == sorted(MNIST_FILES[2:])
    assert "Downloading t10k-images-idx3-ubyte.gz" in capsys.readouterr().err
    # a second call reads the cache without touching the network
    fetch_mnist("test", data_home=home, mirrors=["http://127.0.0.1:9/"], n_retries=0)


def test_downloads_get_the_mode_of_the_umask_as_other_files_do(mirror, tmp_path):
    # A data home shared by a group: the files must be readable by it (a
    # temporary file's 0600 would lock the others out).
    umask = os.umask(0o027)
    try:
        fetch_mnist("test", data_home=tmp_path, mirrors=[mirror + "good/"])
    finally:
        os.umask(umask)
    modes = {p.name: oct(p.stat().st_mode & 0o777) for p in tmp_path.iterdir()}
    assert modes == dict.fromkeys(MNIST_FILES[2:], "0o640")


def test_mirrors_from_the_environment(mirror, tmp_path, monkeypatch):
    monkeypatch.setenv("SKMNIST_MIRRORS", f"{mirror}missing/, {mirror}good/")
    X, _ = fetch_mnist("test", data_home=tmp_path, return_X_y=True)
    assert len(X) == 10000


def test_all_mirrors_failing_is_one_clear_error(mirror, tmp_path):
    with pytest.raises(OSError) as info:
        fetch_mnist(
            "test",
            data_home=tmp_path,
            mirrors=[mirror + "a/", "http://127.0.0.1:9/"],
            delay=0,
        )
    message = str(info.value)
    assert f"{mirror}a/t10k-images-idx3-ubyte.gz: HTTP 404" in message
    assert "http://127.0.0.1:9/t10k-images-idx3-ubyte.gz: cannot connect" in message
    assert "t10k-labels-idx1-ubyte.gz" in message and str(tmp_path) in message
    assert "SKMNIST_DATA" in message
    assert list(tmp_path.iterdir()) == []


def test_corrupt_cached_file_is_downloaded_again(mirror, mnist_home, tmp_path):
    for name in MNIST_FILES[2:]:
        shutil.copy(mnist_home / name, tmp_path / name)
    _write_gz(tmp_path / MNIST_FILES[3], b"\x00\x00\x08\x01garbage")
    X, y = fetch_mnist(
        "test", data_home=tmp_path, mirrors=[mirror + "good/"], return_X_y=True
    )
    assert y[:3].tolist() == [7, 2, 1]
    assert (tmp_path / MNIST_FILES[3]).read_bytes() == (
        mnist_home / MNIST_FILES[3]
    ).read_bytes()


# What each misbehaving mirror of the test server does to a download, as the
# error names it. The cap on t10k-images-idx3-ubyte.gz: 7,840,016 bytes plus
# 1/64 plus 4 KiB.
_FAULTS = {
    "403": "HTTP 403",
    "missing": "HTTP 404",
    "truncated": "connection closed before the whole file arrived",
    "wrong": "bad file, the SHA-256 of its decompressed bytes is",
    "drop": "connection lost mid-transfer",
    "stall": "timed out",
    "endless": "bad file, it sent more than 7,966,612 bytes",
    "endless-length": "bad file, it announces 1,099,511,627,776 bytes, more than",
    "trickle": "too slow: ",
}
# Small values of the rate rule, so that a trickling mirror (a byte every 0.2 s)
# is dropped within a second and a half; the rule is the same as with the
# defaults.
_FAST_RULE = {"min_rate": 100, "rate_window": 1.0}


def _only_verified_files(home):
    return sorted(p.name for p in home.iterdir()) == sorted(MNIST_FILES[2:])


@pytest.mark.parametrize("fault", sorted(_FAULTS))
def test_a_bad_mirror_falls_through_to_the_next(mirror, tmp_path, fault):
    start = time.monotonic()
    X, y = fetch_mnist(
        "test",
        data_home=tmp_path,
        mirrors=[mirror + fault + "/", mirror + "good/"],
        n_retries=0,
        timeout=0.5,
        return_X_y=True,
        **_FAST_RULE,
    )
    assert X.shape == (10000, 28, 28) and y[:3].tolist() == [7, 2, 1]
    assert _only_verified_files(tmp_path)
    # each fault costs at most a timeout or a window per file
    assert time.monotonic() - start < 10


def test_every_mirror_failing_names_each_mirror_and_leaves_nothing(mirror, tmp_path):
    faults = sorted(_FAULTS)
    with pytest.raises(OSError) as info:
        fetch_mnist(
            "test",
            data_home=tmp_path,
            mirrors=[mirror + fault + "/" for fault in faults],
            n_retries=0,
            timeout=0.5,
            **_FAST_RULE,
        )
    message = str(info.value)
    for fault in faults:
        url = f"{mirror}{fault}/t10k-images-idx3-ubyte.gz"
        assert f"{url}: {_FAULTS[fault]}" in message
    assert list(tmp_path.iterdir()) == []


def test_transient_failures_are_retried(mirror, tmp_path):
    # "flaky" answers 503 to every other request for a file.
    flaky = [mirror + "flaky/"]
    with pytest.raises(OSError, match="flaky/t10k-images-idx3-ubyte.gz: HTTP 503"):
        fetch_mnist("test", data_home=tmp_path, mirrors=flaky, n_retries=0)
    assert list(tmp_path.iterdir()) == []
    X, _ = fetch_mnist(
        "test", data_home=tmp_path, mirrors=flaky, n_retries=1, delay=0, return_X_y=True
    )
    assert len(X) == 10000 and _only_verified_files(tmp_path)


def test_two_processes_fetching_into_one_empty_directory(mirror, tmp_path):
    code = (
        "import sys; from skmnist import fetch_mnist; "
        "X, y = fetch_mnist('test', data_home=sys.argv[1], mirrors=[sys.argv[2]], "
        "return_X_y=True); print(len(X), y[:3].tolist())"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(tmp_path), mirror + "good/"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert out.strip() == "10000 [7, 2, 1]"
    assert _only_verified_files(tmp_path)


# -- bad input: corrupt and missing files, bad IDX bytes -------------------------
# Run on the JAX backend too, as all the bad-input cases always were.


# (case, bytes of the file or None for a truncated real file, message)
LOADER_CASES = [
    ("random bytes, not gzip", b"not a gzip file at all", "not a complete gzip file"),
    ("truncated gzip", None, "not a complete gzip file"),
    (
        "wrong IDX magic",
        gzip.compress(b"\x00\x00\x08\x09" + bytes(100)),
        "bad IDX magic number 0x00000809; expected 0x00000801",
    ),
    ("empty file", b"", "0 bytes is too short for an IDX header"),
]


@pytest.mark.jax
@pytest.mark.bad_input
@pytest.mark.parametrize(
    "case, content, message", LOADER_CASES, ids=[c[0] for c in LOADER_CASES]
)
def test_corrupt_files_are_reported(mnist_home, tmp_path, case, content, message):
    labels = MNIST_FILES[3]
    (tmp_path / MNIST_FILES[2]).write_bytes((mnist_home / MNIST_FILES[2]).read_bytes())
    if content is None:
        content = (mnist_home / labels).read_bytes()[:1000]
    (tmp_path / labels).write_bytes(content)
    with pytest.raises(OSError, match=message) as info:
        fetch_mnist("test", data_home=tmp_path, download_if_missing=False)
    assert labels in str(info.value)


@pytest.mark.jax
@pytest.mark.bad_input
def test_a_directory_of_other_files(tmp_path):
    (tmp_path / "notes.txt").write_text("no digits here")
    (tmp_path / "train-images.csv").write_text("1,2,3")
    with pytest.raises(
        FileNotFoundError, match="MNIST files not found: t10k-images"
    ) as info:
        fetch_mnist("test", data_home=tmp_path, download_if_missing=False)
    assert str(tmp_path) in str(info.value) and "SKMNIST_DATA" in str(info.value)


@pytest.mark.jax
@pytest.mark.bad_input
@pytest.mark.parametrize(
    "data, message",
    [
        (b"\x00\x00", "too short for an IDX header"),
        (b"\x00\x00\x0d\x01" + bytes(8), "bad IDX magic number 0x00000d01"),
        (
            b"\x00\x00\x08\x01\x00\x00\x00\x05abc",
            r"announces shape \(5,\) \(5 bytes\) but the file holds 3",
        ),
    ],
)
def test_idx_parser_names_what_is_wrong(data, message):
    with pytest.raises(ValueError, match=message):
        _parse_idx(data, "file", 1)


@pytest.mark.jax
@property_settings()
@given(st.binary(max_size=200), st.integers(1, 3))
def test_random_bytes_in_the_idx_parser(data, ndim):
    try:
        array = _parse_idx(data, "file", ndim)
    except ValueError:
        return
    assert array.ndim == ndim and array.dtype == np.uint8


# -- hostile input: bounded memory and time ------------------------------------------
# Each case runs in a fresh process (tests/_measure.py), whose peak memory is held
# to a bound stated relative to the baseline of a process that only imports
# fetch_mnist (numpy and scikit-learn: about 150 MB here), and whose heap is
# capped at 1 GB, so a regression ends in a MemoryError instead of taking the
# machine. The generated files are deleted afterwards.

_TRAIN_IMAGES_SIZE = 47_040_016  # 16-byte header, 60,000 x 28 x 28 pixels
_HEAP_CAP_MB = 1024
_TIME_BOUND = 30.0  # seconds, the interpreter's start and imports included


def _idx_header(shape):
    return bytes([0, 0, 8, len(shape)]) + struct.pack(f">{len(shape)}I", *shape)


def _write_gzip_bomb(path, header, n_zeros, chunk=2**24):
    """Write a valid gzip of ``header`` and ``n_zeros`` zero bytes to ``path``.

    The zeros are never held: one block of ``chunk`` zeros is compressed after
    a full flush (so it does not depend on what precedes it) and written again
    and again; the CRC is computed over the same chunk.
    """
    assert n_zeros % chunk == 0
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = deflate.compress(header) + deflate.flush(zlib.Z_FULL_FLUSH)
    zeros = bytes(chunk)
    block = deflate.compress(zeros) + deflate.flush(zlib.Z_FULL_FLUSH)
    crc = zlib.crc32(header)
    with open(path, "wb") as f:
        f.write(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff" + head)
        for _ in range(n_zeros // chunk):
            f.write(block)
            crc = zlib.crc32(zeros, crc)
        f.write(deflate.flush())
        f.write(struct.pack("<II", crc, (len(header) + n_zeros) % 2**32))


def test_the_gzip_bomb_is_a_valid_gzip(tmp_path):
    path = tmp_path / "bomb.gz"
    _write_gzip_bomb(path, _idx_header((3, 2)), 2**25)
    with gzip.open(path) as f:
        assert f.read(10) == _idx_header((3, 2))[:10]
        f.seek(12 + 2**25 - 1)
        assert f.read() == b"\x00"
    assert path.stat().st_size < 2**16


@pytest.fixture
def hostile_home(tmp_path, mnist_home):
    """A data home with the real training labels; deleted afterwards."""
    home = tmp_path / "hostile"
    home.mkdir()
    shutil.copy(mnist_home / MNIST_FILES[1], home / MNIST_FILES[1])
    yield home
    shutil.rmtree(home)


@pytest.fixture(scope="session")
def baseline_mb():
    """Peak memory of a fresh process that imports fetch_mnist and does nothing."""
    measured = measure_python("from skmnist import fetch_mnist", timeout=120)
    assert measured.returncode == 0, measured.stderr
    return measured.peak_mb


def _measure_fetch(arguments):
    """Measure ``fetch_mnist(arguments)`` in a fresh process with a capped heap.

    An OSError is printed to stdout and ends the process with status 3; the
    last line of stdout is the call's own time in seconds.
    """
    code = (
        "import sys, time\n"
        "from skmnist import fetch_mnist\n"
        "start = time.monotonic()\n"
        "try:\n"
        f"    fetch_mnist({arguments})\n"
        "except OSError as exc:\n"
        "    print(exc)\n"
        "    sys.exit(3)\n"
        "finally:\n"
        "    print(time.monotonic() - start)\n"
    )
    return measure_python(code, timeout=180, limit_mb=_HEAP_CAP_MB)


def _bomb(header):
    return lambda home: _write_gzip_bomb(
        home / "train-images-idx3-ubyte.gz", _idx_header(header), 2**32
    )


def _sparse_raw(home):
    # A raw IDX file of 4 GiB with a true header; sparse, so it costs no disk.
    with open(home / "train-images-idx3-ubyte", "wb") as f:
        f.write(_idx_header((60000, 28, 28)))
        f.truncate(2**32)


# (case, write the file into the home, message, bound on peak memory above the
# baseline in MB): a true header costs its one buffer of 47 MB; a header that
# lies or a file too long on disk costs nothing.
HOSTILE_CACHE = [
    (
        "gzip bomb, 4 GiB behind a true header",
        _bomb((60000, 28, 28)),
        "train-images-idx3-ubyte.gz is corrupt: it decompresses to more than the "
        "47,040,016 bytes of an IDX file of shape (60000, 28, 28)",
        100,
    ),
    (
        "gzip bomb, 4 GiB behind a header lying about the dims",
        _bomb((10**9, 28, 28)),
        "train-images-idx3-ubyte.gz is corrupt: its IDX header announces shape "
        "(1000000000, 28, 28), but train-images-idx3-ubyte has shape (60000, 28, 28)",
        20,
    ),
    (
        "raw IDX file of 4 GiB",
        _sparse_raw,
        "train-images-idx3-ubyte is corrupt: it holds 4,294,967,296 bytes, more "
        "than the 47,040,016 bytes of an IDX file of shape (60000, 28, 28)",
        20,
    ),
]


@pytest.mark.bad_input
@pytest.mark.parametrize(
    "case, write, message, bound_mb", HOSTILE_CACHE, ids=[c[0] for c in HOSTILE_CACHE]
)
def test_hostile_cached_file_costs_bounded_memory_and_time(
    hostile_home, baseline_mb, case, write, message, bound_mb
):
    write(hostile_home)
    measured = _measure_fetch(
        f"'train', data_home={str(hostile_home)!r}, download_if_missing=False"
    )
    assert measured.returncode == 3, measured.stderr[-2000:]
    assert message in measured.stdout
    assert measured.peak_mb < baseline_mb + bound_mb, (measured.peak_mb, baseline_mb)
    assert measured.seconds < _TIME_BOUND


def _real_labels(mnist_home):
    return gzip.decompress((mnist_home / MNIST_FILES[3]).read_bytes())


@pytest.mark.bad_input
@pytest.mark.parametrize(
    "edit, gzipped, message",
    [
        (lambda b: b + b"\x00", True, "it decompresses to more than the 10,008 bytes"),
        (lambda b: b + b"\x00", False, "it holds 10,009 bytes, more than the 10,008"),
        (lambda b: b[:-1], True, "it decompresses to 10,007 bytes, fewer than"),
        (lambda b: b[:-1], False, "it holds 10,007 bytes, fewer than the 10,008"),
        (
            lambda b: _idx_header((10001,)) + b[8:],
            True,
            r"its IDX header announces shape \(10001,\), but t10k-labels-idx1-ubyte has "
            r"shape \(10000,\)",
        ),
    ],
)
def test_a_file_one_byte_off_is_corrupt(mnist_home, tmp_path, edit, gzipped, message):
    shutil.copy(mnist_home / MNIST_FILES[2], tmp_path / MNIST_FILES[2])
    payload = edit(_real_labels(mnist_home))
    name = MNIST_FILES[3] if gzipped else MNIST_FILES[3][:-3]
    (tmp_path / name).write_bytes(gzip.compress(payload) if gzipped else payload)
    with pytest.raises(OSError, match=f"{name} is corrupt: {message}"):
        fetch_mnist("test", data_home=tmp_path, download_if_missing=False)


@pytest.mark.bad_input
def test_a_gzipped_file_larger_than_any_gzip_of_it_is_refused_unread(
    mnist_home, tmp_path
):
    shutil.copy(mnist_home / MNIST_FILES[2], tmp_path / MNIST_FILES[2])
    with open(tmp_path / MNIST_FILES[3], "wb") as f:
        f.truncate(2**30)  # sparse: one gigabyte of nothing
    with pytest.raises(
        OSError, match="it takes 1,073,741,824 bytes, more than a gzipped "
    ):
        fetch_mnist("test", data_home=tmp_path, download_if_missing=False)


def test_download_rule_defaults_are_the_documented_ones():
    params = inspect.signature(fetch_mnist).parameters
    assert params["min_rate"].default == 10_000.0
    assert params["rate_window"].default == 30.0
    assert params["timeout"].default == 30.0
    doc = fetch_mnist.__doc__
    assert "min_rate : float, default=10_000.0" in doc
    assert "rate_window : float, default=30.0" in doc
    # a byte-per-second drip is dropped within a minute: the first window
    assert 1.0 * 30.0 < 10_000.0 * 30.0 and 30.0 + 30.0 <= 60.0


@pytest.mark.parametrize(
    "params, message",
    [
        ({"min_rate": -1}, "min_rate must be a number of bytes per second, 0 or"),
        ({"min_rate": "fast"}, "min_rate must be a number"),
        ({"rate_window": 0}, "rate_window must be a positive number of seconds"),
    ],
)
def test_download_rule_parameters_are_checked(tmp_path, params, message):
    with pytest.raises(ValueError, match=message):
        fetch_mnist("test", data_home=tmp_path, **params)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.bad_input
@pytest.mark.parametrize("behaviour", ["endless", "endless-length"])
def test_an_endless_download_costs_bounded_memory_time_and_disk(
    mirror, tmp_path, baseline_mb, behaviour
):
    # The server streams 50 MB at most (tests/_mirror.py); the cap stops the client at
    # 8 MB, and the file is refused before it is inflated.
    home = tmp_path / "home"
    measured = _measure_fetch(
        f"'test', data_home={str(home)!r}, mirrors=[{mirror + behaviour + '/'!r}], "
        "n_retries=2, delay=0"
    )
    assert measured.returncode == 3, measured.stderr[-2000:]
    assert _FAULTS[behaviour] in measured.stdout
    assert measured.peak_mb < baseline_mb + 50, (measured.peak_mb, baseline_mb)
    assert measured.seconds < _TIME_BOUND
    assert list(home.iterdir()) == []


@pytest.mark.bad_input
def test_a_trickling_download_is_dropped_within_the_window(
    mirror, tmp_path, baseline_mb
):
    home = tmp_path / "home"
    measured = _measure_fetch(
        f"'test', data_home={str(home)!r}, mirrors=[{mirror + 'trickle/'!r}], "
        "n_retries=2, delay=0, timeout=5.0, min_rate=100, rate_window=1.0"
    )
    assert measured.returncode == 3, measured.stderr[-2000:]
    assert "trickle/t10k-images-idx3-ubyte.gz: too slow: " in measured.stdout
    assert "below min_rate=100 bytes/s" in measured.stdout
    # dropped after one window, and not retried: three windows would be 3 s
    assert float(measured.stdout.split()[-1]) < 2.0
    assert measured.seconds < _TIME_BOUND
    assert measured.peak_mb < baseline_mb + 50, (measured.peak_mb, baseline_mb)
    assert list(home.iterdir()) == []


def test_every_hostile_mirror_then_a_good_one(mirror, tmp_path):
    # The whole call ends in bounded time: each hostile mirror is dropped for
    # each file in turn (two trickles of one window each), then the good one
    # serves both files.
    hostile = ["endless", "endless-length", "trickle", "stall"]
    start = time.monotonic()
    X, y = fetch_mnist(
        "test",
        data_home=tmp_path,
        mirrors=[mirror + h + "/" for h in hostile] + [mirror + "good/"],
        n_retries=1,
        delay=0,
        timeout=0.5,
        return_X_y=True,
        **_FAST_RULE,
    )
    assert time.monotonic() - start < 20
    assert y[:3].tolist() == [7, 2, 1] and _only_verified_files(tmp_path)


def test_a_stall_after_a_window_is_too_slow_and_not_retried(mirror, tmp_path):
    # "stall" sends half the file at once, then nothing: once rate_window has
    # passed, the timeout is a mirror too slow (next mirror), not a transient
    # failure (three attempts here).
    start = time.monotonic()
    with pytest.raises(OSError, match=r"too slow: [\d,]+ bytes in [\d.]+ s \(then "):
        fetch_mnist(
            "test",
            data_home=tmp_path,
            mirrors=[mirror + "stall/"],
            n_retries=2,
            delay=0,
            timeout=1.0,
            min_rate=10**7,
            rate_window=0.5,
        )
    assert time.monotonic() - start < 2.5
    assert list(tmp_path.iterdir()) == []


def test_fetch_keeps_no_copy_of_the_images(mnist_home):
    # A fresh process: nothing read before the measured call.
    code = f"""
import tracemalloc
from skmnist import fetch_mnist
tracemalloc.start()
X, _ = fetch_mnist("train", data_home={str(mnist_home)!r}, return_X_y=True)
print(tracemalloc.get_traced_memory()[0], X.nbytes)
"""
    result = measure_python(code, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    kept, images = map(int, result.stdout.split())
    assert kept < 1.1 * images, (kept, images)
