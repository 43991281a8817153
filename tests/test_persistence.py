"""skmnist.save and skmnist.load: exact round trips, and files that run no code."""

import io
import json
import os
import pickle
import re
import struct
import subprocess
import sys
import zipfile

import joblib
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import LogisticRegression

import skmnist
from skmnist import KerasMLPClassifier, make_mnist_pipeline
from skmnist.persistence import ModelFileError

from ._measure import measure_python
from ._properties import property_settings

pytestmark = pytest.mark.jax


@pytest.fixture(scope="module")
def fitted(digits):
    """A fitted pipeline on the 8x8 digits, with string labels and class weights."""
    images, y = digits
    labels = np.array([f"digit {d}" for d in y], dtype=object)
    pipe = make_mnist_pipeline(
        epochs=3,
        hidden_layer_sizes=(16,),
        class_weight={"digit 0": 2.0},
        random_state=0,
    ).fit(images, labels)
    return pipe, images, labels


def _rewrite(src, dst, edit_meta=None, extra=None, weights=None):
    """Copy a model file, changing its JSON, its weights or adding a member."""
    with zipfile.ZipFile(src) as archive:
        meta = json.loads(archive.read("skmnist.json"))
        members = {name: archive.read(name) for name in archive.namelist()}
    if edit_meta:
        edit_meta(meta)
    members["skmnist.json"] = json.dumps(meta).encode()
    if weights is not None:
        members["weights.npz"] = weights
    members.update(extra or {})
    with zipfile.ZipFile(dst, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return dst


def test_pipeline_round_trip_is_exact(fitted, tmp_path):
    pipe, images, labels = fitted
    path = skmnist.save(pipe, tmp_path / "digits.skmnist")
    loaded = skmnist.load(path)
    np.testing.assert_array_equal(
        loaded.predict_proba(images), pipe.predict_proba(images)
    )
    np.testing.assert_array_equal(loaded.predict(images), pipe.predict(images))
    mlp = loaded[-1]
    assert mlp.get_params() == pipe[-1].get_params()  # tuples stay tuples, etc.
    assert mlp.classes_.tolist() == pipe[-1].classes_.tolist()
    assert mlp.history_ == pipe[-1].history_
    assert loaded[0].image_shape_ == (8, 8)
    # only the file itself: the temporary file was renamed into place
    assert os.listdir(tmp_path) == ["digits.skmnist"]


@pytest.mark.slow
def test_classifier_round_trip_and_training_continues(digits_flat, tmp_path):
    X, y = digits_flat
    clf = KerasMLPClassifier(epochs=2, random_state=0).fit(X, y)
    loaded = skmnist.load(skmnist.save(clf, tmp_path / "clf.skmnist"))
    assert isinstance(loaded, KerasMLPClassifier)
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    before = loaded.score(X, y)
    loaded.set_params(warm_start=True, epochs=10).fit(X, y)
    assert loaded.score(X, y) > before


def test_mlp_classifier_round_trip(digits_flat, tmp_path):
    X, y = digits_flat
    clf = skmnist.MLPClassifier(max_iter=3, random_state=0)
    with pytest.warns(ConvergenceWarning):
        clf.fit(X, y)
    loaded = skmnist.load(skmnist.save(clf, tmp_path / "mlp.skmnist"))
    assert type(loaded) is skmnist.MLPClassifier
    assert loaded.get_params() == clf.get_params()
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))


def test_save_overwrites_atomically(fitted, digits_flat, tmp_path):
    pipe, images, _ = fitted
    path = tmp_path / "model.skmnist"
    skmnist.save(pipe, path)
    X, y = digits_flat
    skmnist.save(KerasMLPClassifier(epochs=1, random_state=0).fit(X, y), path)
    assert isinstance(skmnist.load(path), KerasMLPClassifier)
    assert os.listdir(tmp_path) == ["model.skmnist"]


def test_save_writes_as_open_does_mode_links_and_long_names(fitted, tmp_path):
    # An existing file keeps its mode, a new one gets the umask's (not 0600),
    # a link is written through to its target, and a name of 250 characters
    # fits (the temporary's name does not grow with it).
    pipe = fitted[0]
    shared = tmp_path / "shared.skmnist"
    shared.write_bytes(b"an older model")
    for mode in (0o644, 0o660):  # the second unlike what the umask (022) gives
        shared.chmod(mode)
        skmnist.save(pipe, shared)
        assert shared.stat().st_mode & 0o777 == mode
    umask = os.umask(0o027)
    try:
        skmnist.save(pipe, tmp_path / "new.skmnist")
    finally:
        os.umask(umask)
    assert oct((tmp_path / "new.skmnist").stat().st_mode & 0o777) == "0o640"

    (tmp_path / "models").mkdir()
    real = tmp_path / "models" / "v2.skmnist"
    link = tmp_path / "current.skmnist"
    link.symlink_to(real)
    skmnist.save(pipe, link)
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert skmnist.read_model_file(real).steps[-1]["class"] == "KerasMLPClassifier"

    long = tmp_path / ("m" * 242 + ".skmnist")
    assert len(long.name) == 250
    skmnist.load(skmnist.save(pipe, long))
    assert sorted(os.listdir(tmp_path)) == sorted(
        ["shared.skmnist", "new.skmnist", "models", "current.skmnist", long.name]
    )


def test_save_where_it_cannot_write_names_the_path(fitted, tmp_path, read_only_dir):
    pipe = fitted[0]
    missing = tmp_path / "no-such-dir" / "model.skmnist"
    with pytest.raises(FileNotFoundError) as caught:
        skmnist.save(pipe, missing)
    assert str(caught.value) == f"cannot write {missing}: No such file or directory"
    old = read_only_dir / "old"
    with pytest.raises(OSError, match=f"^cannot write {re.escape(str(old))}: "):
        skmnist.save(pipe, old)
    assert old.read_bytes() == b"old" and os.listdir(read_only_dir) == ["old"]


@pytest.mark.slow
def test_save_refuses_what_it_cannot_store(fitted, digits_flat, tmp_path):
    X, y = digits_flat
    path = tmp_path / "model.skmnist"
    with pytest.raises(NotFittedError):
        skmnist.save(make_mnist_pipeline(), path)
    with pytest.raises(TypeError, match="LogisticRegression"):
        skmnist.save(LogisticRegression().fit(X, y), path)
    import keras

    clf = KerasMLPClassifier(epochs=1, callbacks=[keras.callbacks.History()]).fit(X, y)
    with pytest.raises(
        TypeError, match=r"KerasMLPClassifier\.callbacks = .*callbacks=None"
    ):
        skmnist.save(clf, path)
    assert not path.exists() and os.listdir(tmp_path) == []


class _RunsCode:
    """Unpickling this creates the marker file: proof that code ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.parametrize(
    "case",
    [
        "pickle",
        "joblib",
        "truncated",
        "extra member",
        "newer format",
        "unknown class",
        "object weights",
        "keras object in a parameter",
        "foreign attribute",
        "not json",
    ],
)
def test_load_refuses_anything_else_and_runs_no_code(case, fitted, tmp_path):
    pipe, images, _ = fitted
    marker = tmp_path / "code-ran"
    good = skmnist.save(pipe, tmp_path / "good.skmnist")
    bad = tmp_path / "bad.skmnist"
    expected = {
        "pickle": "not a zip archive",
        "joblib": "not a zip archive",
        "truncated": "not a zip archive",
        "extra member": r"expected exactly \['skmnist.json', 'weights.npz'\]",
        "newer format": "format 2 .*reads formats up to 1; upgrade skmnist",
        "unknown class": r"names the class 'posix\.system'",
        "object weights": r"weights.npz holds 1 array\(s\); the network .* has 4",
        "keras object in a parameter": "stores mappings only in class_weight",
        "foreign attribute": "no fitted attribute '_predict_raw'",
        "not json": "skmnist.json is not valid JSON",
    }[case]
    payload = _RunsCode(marker)
    if case == "pickle":
        bad.write_bytes(pickle.dumps(payload))
    elif case == "joblib":
        joblib.dump(payload, bad)
    elif case == "truncated":
        bad.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    elif case == "extra member":
        _rewrite(good, bad, extra={"payload.pkl": pickle.dumps(payload)})
    elif case == "newer format":
        _rewrite(good, bad, edit_meta=lambda m: m.update(format_version=2))
    elif case == "unknown class":
        _rewrite(
            good,
            bad,
            edit_meta=lambda m: m["steps"][0].update({"class": "posix.system"}),
        )
    elif case == "object weights":
        buffer = io.BytesIO()
        np.savez(buffer, np.array([payload], dtype=object))
        _rewrite(good, bad, weights=buffer.getvalue())
    elif case == "keras object in a parameter":
        loss = {"dict": [["module", "os"], ["class_name", "system"], ["config", "ls"]]}
        _rewrite(
            good,
            bad,
            edit_meta=lambda m: m["steps"][1]["params"].update(compile__loss=loss),
        )
    elif case == "foreign attribute":
        _rewrite(
            good, bad, edit_meta=lambda m: m["steps"][1]["state"].update(_predict_raw=1)
        )
    elif case == "not json":
        _rewrite(good, bad, extra={"skmnist.json": b"\x80\x03 not json"})
    with pytest.raises(ModelFileError, match=expected) as info:
        skmnist.load(bad)
    assert str(bad) in str(info.value)
    assert isinstance(info.value, ValueError)
    assert not marker.exists()


def test_load_of_a_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="No model file at"):
        skmnist.load(tmp_path / "nothing.skmnist")


@pytest.mark.slow
def test_a_model_file_loads_on_the_other_backend(digits_flat, tmp_path):
    import keras

    X, y = digits_flat
    clf = KerasMLPClassifier(epochs=2, random_state=0).fit(X, y)
    path = skmnist.save(clf, tmp_path / "clf.skmnist")
    np.save(tmp_path / "X.npy", X)
    other = "tensorflow" if keras.backend.backend() == "jax" else "jax"
    code = (
        "import sys, numpy as np, keras, skmnist; "
        "assert keras.backend.backend() == sys.argv[3]; "
        "clf = skmnist.load(sys.argv[1]); "
        "np.save(sys.argv[2], clf.predict_proba(np.load(sys.argv[2])))"
    )
    subprocess.run(
        [sys.executable, "-c", code, str(path), str(tmp_path / "X.npy"), other],
        env={**os.environ, "KERAS_BACKEND": other},
        check=True,
    )
    # the same weights; another process's BLAS may round the float64 sums
    # differently in the last bit (seen once in CI: 5.6e-17)
    np.testing.assert_allclose(
        np.load(tmp_path / "X.npy"), clf.predict_proba(X), rtol=1e-12, atol=0
    )


@property_settings()
@given(st.binary(max_size=300))
def test_random_bytes_as_a_model_file(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("model") / "random.skmnist"
    path.write_bytes(data)
    with pytest.raises(ValueError, match="Cannot load .* as an skmnist model"):
        skmnist.load(path)


# -- hostile files: refused within bounds ----------------------------------------------

# Peak resident memory of a process that imports skmnist (NumPy, scikit-learn:
# about 150 MB here) and is refused a file before Keras is imported.
_HOSTILE_PEAK_MB = 400
_HOSTILE_SECONDS = 60


def _stream_member(path, name, chunks, base):
    """``base`` (a model file) with member ``name`` replaced by the streamed ``chunks``."""
    with zipfile.ZipFile(base) as archive:
        members = {n: archive.read(n) for n in archive.namelist() if n != name}
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for member, data in members.items():
            archive.writestr(member, data)
        with archive.open(name, "w", force_zip64=True) as f:
            for chunk in chunks:
                f.write(chunk)
    return path


def _zeros(n_bytes, chunk=2**22):
    for start in range(0, n_bytes, chunk):
        yield bytes(min(chunk, n_bytes - start))


def _npz(*arrays):
    buffer = io.BytesIO()
    np.savez(buffer, *arrays)
    return buffer.getvalue()


def _npy_header(shape):
    """A .npy file whose header declares ``shape`` float32 values and holds none."""
    buffer = io.BytesIO()
    header = {"descr": "<f4", "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_1_0(buffer, header)
    return np.lib.format.magic(1, 0) + buffer.getvalue()[8:]


def _edit(step, part, **values):
    return lambda meta: meta["steps"][step][part].update(values)


# -- archive structure: central directories built byte by byte ----------------------

_CENTRAL = struct.Struct("<4s6H3L5H2L")  # a central directory entry, before its name
_END = struct.Struct("<4s4H2LH")
_ZIP64_END = struct.Struct("<4sQ2H2L4Q")
_ZIP64_LOCATOR = struct.Struct("<4sLQL")


def _directory(data):
    """The central directory of the zip bytes ``data`` (no comment) and its offset."""
    _, _, _, _, _, size, offset, _ = _END.unpack(data[-_END.size :])
    return data[offset : offset + size], offset


def _fake_entries(n, name=b"x"):
    """``n`` central directory entries naming ``name``, all pointing at offset 0."""
    entry = _CENTRAL.pack(
        b"PK\x01\x02", 20, 20, 0, 0, 0, 0, 0, 0, 0, len(name), 0, 0, 0, 0, 0, 0
    )
    return (entry + name) * n


def _with_directory(data, directory, offset, *, zip64=False, comment=b""):
    """Zip bytes: ``data`` up to ``offset``, then ``directory`` and end records."""
    n = directory.count(b"PK\x01\x02")
    tail = b""
    count, size, start = min(n, 0xFFFF), len(directory), offset
    if zip64:
        end64 = _ZIP64_END.pack(
            b"PK\x06\x06", 44, 45, 45, 0, 0, n, n, len(directory), offset
        )
        locator = _ZIP64_LOCATOR.pack(b"PK\x06\x07", 0, offset + len(directory), 1)
        tail = end64 + locator
        count, size, start = 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF
    end = _END.pack(b"PK\x05\x06", 0, 0, count, count, size, start, len(comment))
    return data[:offset] + directory + tail + end + comment


def _structure(case, good, bad):
    """Write the archive-structure case ``case`` to ``bad``, from ``good``."""
    data = good.read_bytes()
    directory, offset = _directory(data)
    if case == "central directory of 2,000,000 members":
        directory += _fake_entries(2_000_000)
        bad.write_bytes(_with_directory(data, directory, offset))
    elif case == "ZIP64 end record of 2,000,000 members":
        directory += _fake_entries(2_000_000)
        bad.write_bytes(_with_directory(data, directory, offset, zip64=True))
    elif case == "end record in a 64 KiB comment claiming 1,000,000 members":
        fake = _END.pack(b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 47_000_000, 0, 0)
        comment = fake.rjust(0xFFFF, b"#")
        bad.write_bytes(_with_directory(data, directory, offset, comment=comment))
    elif case == "central directory past the start of the file":
        end = _END.pack(b"PK\x05\x06", 0, 0, 2, 2, 60_000, 10**9, 0)
        bad.write_bytes(data[: offset + len(directory)] + end)
    elif case == "three members named with 20,000 characters":
        _rewrite(good, bad, extra={"A" * 20_000: b"", "B" * 20_000: b""})
    elif case == "weights.npz listing 1,000,000 arrays":
        # a network large enough for the member to hold 47 MB
        sizes = {"tuple": [4096, 4096]}
        arrays = _with_directory(b"", _fake_entries(1_000_000), 0)
        _rewrite_deflated(
            good, bad, _edit(1, "params", hidden_layer_sizes=sizes), arrays
        )
    return bad


def _rewrite_deflated(src, dst, edit_meta, weights):
    """:func:`_rewrite`, compressing: a large weights member stays a small file."""
    with zipfile.ZipFile(src) as archive:
        meta = json.loads(archive.read("skmnist.json"))
    edit_meta(meta)
    with zipfile.ZipFile(dst, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("skmnist.json", json.dumps(meta))
        archive.writestr("weights.npz", weights)


def _hostile(case, good, bad):
    """Write the hostile file ``case`` to ``bad``, from the model file ``good``."""
    if case == "image_shape_ of 10**10 pixels":
        _rewrite(good, bad, _edit(0, "state", image_shape_={"tuple": [10**5, 10**5]}))
    elif case == "JSON member inflating to 256 MiB":
        _stream_member(bad, "skmnist.json", _zeros(2**28), good)
    elif case == "weights member inflating to 256 MiB":
        _stream_member(bad, "weights.npz", _zeros(2**28), good)
    elif case == "hidden_layer_sizes of 200,000":
        _rewrite(good, bad, _edit(1, "params", hidden_layer_sizes={"tuple": [200000]}))
    elif case == "hidden_layer_sizes of 10**9":
        _rewrite(good, bad, _edit(1, "params", hidden_layer_sizes={"tuple": [10**9]}))
    elif case == "hidden_layer_sizes of (10**6, 10**6)":
        sizes = {"tuple": [10**6, 10**6]}
        _rewrite(good, bad, _edit(1, "params", hidden_layer_sizes=sizes))
    elif case == ".npy header of 10**12 values":
        weights = io.BytesIO()
        with zipfile.ZipFile(weights, "w") as inner:
            for i in range(4):
                inner.writestr(f"arr_{i}.npy", _npy_header((10**12,)))
        _rewrite(good, bad, weights=weights.getvalue())
    elif case == "JSON nested 100,000 deep":
        depth = 100_000
        with zipfile.ZipFile(good) as archive:
            meta = archive.read("skmnist.json")
        nested = b'{"deep": ' + b"[" * depth + b"]" * depth + b", "
        _rewrite(good, bad, extra={"skmnist.json": nested + meta.lstrip()[1:]})
    elif case == "classes_ of dtype <U25000000":
        labels = {"array": [f"digit {d}" for d in range(10)], "dtype": "<U25000000"}
        _rewrite(good, bad, _edit(1, "state", classes_=labels))
    elif case == "max_value_ of Infinity":
        _rewrite(good, bad, _edit(0, "state", max_value_=float("inf")))
    elif case == "complex weights":
        with zipfile.ZipFile(good) as archive:
            npz = np.load(io.BytesIO(archive.read("weights.npz")))
            arrays = [npz[f"arr_{i}"] * (1 + 1j) for i in range(len(npz.files))]
        _rewrite(good, bad, weights=_npz(*arrays))
    elif case == "steps reversed":
        _rewrite(good, bad, edit_meta=lambda meta: meta["steps"].reverse())
    elif case == "float64 weights overflowing float32":
        with zipfile.ZipFile(good) as archive:
            npz = np.load(io.BytesIO(archive.read("weights.npz")))
            arrays = [npz[f"arr_{i}"].astype(np.float64) for i in range(len(npz.files))]
        arrays[0][0, 0] = 1e39  # finite in float64, infinite in float32
        _rewrite(good, bad, weights=_npz(*arrays))
    elif case == "max_value_ of 1e39":
        _rewrite(good, bad, _edit(0, "state", max_value_=1e39))
    elif case == "max_value_ of 1e-50":
        _rewrite(good, bad, _edit(0, "state", max_value_=1e-50))
    elif case in STRUCTURE:
        _structure(case, good, bad)
    return bad


HOSTILE = {
    "image_shape_ of 10**10 pixels": r"image_shape_ is \(100000, 100000\)",
    "JSON member inflating to 256 MiB": r"skmnist.json declares 268,435,456 bytes",
    "weights member inflating to 256 MiB": r"weights.npz declares 268,435,456 bytes",
    "hidden_layer_sizes of 200,000": r"shape \(64, 16\), where the network needs "
    r"\(64, 200000\)",
    "hidden_layer_sizes of 10**9": r"hidden_layer_sizes is 1000000000, not in "
    r"\[1, 67108864\]",
    "hidden_layer_sizes of (10**6, 10**6)": r"a network of 1,000,076,000,010 weights "
    r"\(layers \[64, 1000000, 1000000, 10\]\); a model file holds at most 67,108,864",
    ".npy header of 10**12 values": r"shape \(1000000000000,\), where the network",
    "JSON nested 100,000 deep": r"nested 100,?001 deep",
    "classes_ of dtype <U25000000": r"at most 1024 characters",
    "max_value_ of Infinity": r"max_value_ is inf, not a finite number",
    "complex weights": r"dtype complex\d+, where weights are real floats",
    "steps reversed": r"holds the steps \['KerasMLPClassifier', 'ImageFlattener'\]",
}

# Archive structure: each refused before zipfile parses its central directory
# (on 0.x, 2,000,000 entries took about 1 GB and the error named every one).
_TOO_LONG = r"a model file has 64 members at most, listed in at most 65,536 bytes"
STRUCTURE = {
    "central directory of 2,000,000 members": r"it is a zip archive whose central "
    r"directory lists 65,535 members in 94,000,\d\d\d bytes; " + _TOO_LONG,
    "ZIP64 end record of 2,000,000 members": r"it ends in a ZIP64 end record",
    "end record in a 64 KiB comment claiming 1,000,000 members": r"lists 65,535 "
    r"members in 47,000,000 bytes",
    "central directory past the start of the file": r"Bad offset for central "
    r"directory",
    "three members named with 20,000 characters": r"it holds \['AAAAAAAAAAAA.*"
    r"AAAAAAA', 'BBBBBBBB.*BBBBBBB', 'skmnist.json', 'weights.npz'\], expected",
    "weights.npz listing 1,000,000 arrays": r"its weights.npz is a zip archive "
    r"whose central directory lists 65,535 members in 47,000,000 bytes",
}
HOSTILE.update(STRUCTURE)
# Values that are finite as stored and not once cast (0.x loaded them, and
# predicted NaN or the first class for every image).
HOSTILE.update(
    {
        "float64 weights overflowing float32": r"weights.npz/arr_0.npy holds weights "
        r"that overflow float32, the dtype the network computes in",
        "max_value_ of 1e39": r"max_value_ is 1e\+39, which is inf in float32",
        "max_value_ of 1e-50": r"max_value_ is 1e-50, which is 0.0 in float32",
    }
)
# The longest message a hostile file may get (0.x's listed 2,000,000 names).
_MAX_MESSAGE_CHARS = 1000

# Loads each file in turn, in one process that imports skmnist once: for each,
# a JSON line with what was raised, and the process's peak resident memory
# since the file before (the kernel's high-water mark, reset between files).
_LOAD_EACH = """
import json, sys, time, traceback, skmnist

def peak_mb():
    with open("/proc/self/status") as status:
        return next(int(l.split()[1]) for l in status if l.startswith("VmHWM")) / 1024

for path in sys.argv[1:]:
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")
    start = time.perf_counter()
    try:
        skmnist.load(path)
        raised = None
    except Exception as exc:
        raised = exc
    seconds = time.perf_counter() - start
    print(json.dumps({
        "type": type(raised).__name__,
        "message": str(raised) if raised is not None else "",
        "traceback": "".join(traceback.format_exception(raised)) if raised else "",
        "keras": "keras" in sys.modules,
        "peak_mb": peak_mb(),
        "seconds": seconds,
    }), flush=True)
"""


@pytest.fixture(scope="module")
def hostile_loads(fitted, tmp_path_factory):
    """``{case: (path, what loading it did)}`` for every case of HOSTILE.

    One process loads them all: a process each paid the start-up of NumPy and
    scikit-learn (about 1.5 s) for each of the 21 files.
    """
    where = tmp_path_factory.mktemp("hostile")
    good = skmnist.save(fitted[0], where / "good.skmnist")
    paths = {}
    for i, case in enumerate(HOSTILE):
        (where / str(i)).mkdir()
        paths[case] = _hostile(case, good, where / str(i) / "bad.skmnist")
    run = measure_python(_LOAD_EACH, args=paths.values(), timeout=300, limit_mb=4096)
    assert run.returncode == 0, run.stderr[-3000:]
    loads = [json.loads(line) for line in run.stdout.splitlines()]
    assert len(loads) == len(paths), run.stderr[-3000:]
    return {case: (paths[case], load) for case, load in zip(paths, loads, strict=True)}


@pytest.mark.parametrize("case", HOSTILE)
def test_hostile_files_are_refused_within_bounds(case, hostile_loads):
    bad, load = hostile_loads[case]
    message = load["message"]
    assert load["type"] == "ModelFileError", load["traceback"][-2000:]
    assert message.startswith(f"Cannot load {bad}")
    assert re.search(HOSTILE[case], message), message[:2000]
    assert len(message) < _MAX_MESSAGE_CHARS, f"{len(message):,} characters"
    # refused while reading: Keras never imported, memory and time bounded
    assert not load["keras"]
    assert load["peak_mb"] < _HOSTILE_PEAK_MB, f"{load['peak_mb']:.0f} MB"
    assert load["seconds"] < _HOSTILE_SECONDS


def test_a_valid_file_reads_without_keras(fitted, tmp_path):
    good = skmnist.save(fitted[0], tmp_path / "good.skmnist")
    code = (
        "import sys, skmnist\n"
        "model_file = skmnist.read_model_file(sys.argv[1])\n"
        "print(model_file, 'keras' in sys.modules)"
    )
    run = measure_python(code, args=[good], timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.split()[-1] == "False"
    assert "steps=[ImageFlattener, KerasMLPClassifier]" in run.stdout


def test_a_model_file_with_a_64_kib_comment_loads(fitted, tmp_path):
    # The end record is found where zipfile finds it, after any comment.
    pipe, images, _ = fitted
    good = skmnist.save(pipe, tmp_path / "good.skmnist")
    with zipfile.ZipFile(good, "a") as archive:
        archive.comment = b"# a comment of 64 KiB\n" * 2978
    assert len(zipfile.ZipFile(good).comment) > 65_000
    loaded = skmnist.load(good)
    np.testing.assert_array_equal(loaded.predict(images), pipe.predict(images))


def test_save_refuses_non_finite_weights_and_writes_nothing(digits_flat, tmp_path):
    # What a diverged fit leaves (a fit of skmnist raises instead, as
    # scikit-learn's does): a network whose weights hold NaN or infinity.
    X, y = digits_flat
    clf = KerasMLPClassifier(epochs=1, hidden_layer_sizes=(8,), random_state=0)
    clf.fit(X, y)
    path = tmp_path / "model.skmnist"
    for bad in (np.nan, np.inf):
        weights = clf.model_.get_weights()
        weights[2][0, 0] = bad
        clf.model_.set_weights(weights)
        with pytest.raises(ValueError, match="non-finite parameter weights") as info:
            skmnist.save(clf, path)
        assert "cannot be saved" in str(info.value)
        assert os.listdir(tmp_path) == []
