"""Load MNIST from its four original gzipped IDX files.

The files are looked for in one directory, downloaded there from the public
mirrors when missing and allowed, and always verified by the SHA-256 of their
decompressed bytes before they are parsed.
"""

# Authors: The skmnist developers
# SPDX-License-Identifier: BSD-3-Clause

import functools
import gzip
import hashlib
import http.client
import numbers
import os
import sys
import time
import urllib.error
import urllib.request
import zlib
from collections import namedtuple
from pathlib import Path

import numpy as np
from sklearn.datasets import get_data_home
from sklearn.utils import Bunch

from . import _atomic

__all__ = ["fetch_mnist", "MIRRORS"]

#: Public MNIST mirrors, tried in this order. ``SKMNIST_MIRRORS`` (a
#: comma-separated list of base URLs) or the ``mirrors`` argument of
#: :func:`fetch_mnist` replace them.
MIRRORS = (
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://yann.lecun.com/exdb/mnist/",
)

_IdxFile = namedtuple("_IdxFile", ["name", "sha256", "shape"])

# Published SHA-256 of the *decompressed* files: gzip wrappers differ between
# mirrors, the payload does not. The shapes fix each file's size (header plus
# one byte per pixel or label), which bounds everything read.
_FILES = {
    "train": (
        _IdxFile(
            "train-images-idx3-ubyte",
            "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
            (60000, 28, 28),
        ),
        _IdxFile(
            "train-labels-idx1-ubyte",
            "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
            (60000,),
        ),
    ),
    "test": (
        _IdxFile(
            "t10k-images-idx3-ubyte",
            "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
            (10000, 28, 28),
        ),
        _IdxFile(
            "t10k-labels-idx1-ubyte",
            "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
            (10000,),
        ),
    ),
}
_SUBSETS = ("train", "test", "all")
_UBYTE = 0x08
_CHUNK = 1 << 16
_READ_CHUNK = 1 << 20


def _header_size(ndim):
    return 4 + 4 * ndim


def _file_size(spec):
    """Size in bytes of the decompressed IDX file ``spec``: header and body."""
    return _header_size(len(spec.shape)) + int(np.prod(spec.shape))


def _gzip_cap(spec):
    """The most bytes a gzipped copy of ``spec`` may take.

    Deflate never grows data by more than 5 bytes per 64 KiB block (stored
    blocks); the margin also covers any gzip header a mirror may write.
    """
    size = _file_size(spec)
    return size + size // 64 + 4096


DESCR = """\
.. _mnist_dataset:

MNIST handwritten digits dataset
--------------------------------

**Data Set Characteristics:**

:Number of Instances: 60,000 training and 10,000 test images
:Number of Attributes: 784 (28x28 grey-scale pixels)
:Attribute Information: pixel intensities, integers from 0 (background)
    to 255 (ink)
:Classes: 10 (the digits 0 to 9)
:Creators: Yann LeCun, Corinna Cortes and Christopher J. C. Burges
:License: CC BY-SA 3.0

The MNIST database was built from NIST's Special Databases 1 and 3. Each
digit was size-normalised to fit a 20x20 pixel box, keeping its aspect ratio,
then centred by its centre of mass in a 28x28 image. The training set comes
from about 250 writers; the writers of the test set are disjoint from them.

This loader reads the four original gzipped IDX files and checks the SHA-256
of their decompressed bytes against the published checksums before parsing.

.. rubric:: References

- Y. LeCun, L. Bottou, Y. Bengio and P. Haffner (1998). Gradient-based
  learning applied to document recognition. Proceedings of the IEEE,
  86(11):2278-2324.
"""


def _data_dir(data_home):
    """Return the one directory MNIST is looked for in."""
    if data_home is not None:
        return Path(data_home).expanduser()
    env = os.environ.get("SKMNIST_DATA")
    if env:
        return Path(env).expanduser()
    return Path(get_data_home()) / "mnist"


def _mirror_list(mirrors):
    if mirrors is None:
        env = os.environ.get("SKMNIST_MIRRORS", "")
        mirrors = [m.strip() for m in env.split(",") if m.strip()] or MIRRORS
    if isinstance(mirrors, str):
        mirrors = [mirrors]
    mirrors = list(mirrors)
    if not mirrors or not all(isinstance(m, str) and m for m in mirrors):
        raise ValueError(
            "mirrors must be a non-empty list of base URLs such as "
            f"{MIRRORS[0]!r}; got {mirrors!r}."
        )
    return mirrors


def _idx_shape(head, ndim):
    """Return the shape the IDX header at the start of ``head`` announces.

    The magic number must be two zero bytes, the type code 0x08 (unsigned
    bytes) and ``ndim``; a ValueError says what is wrong otherwise.
    """
    header = _header_size(ndim)
    if len(head) < header:
        raise ValueError(
            f"{len(head)} bytes is too short for an IDX header "
            f"({header} bytes expected); the file is truncated or not IDX"
        )
    magic = bytes(head[:4])
    if magic[:2] != b"\x00\x00" or magic[2] != _UBYTE or magic[3] != ndim:
        raise ValueError(
            f"bad IDX magic number 0x{magic.hex()}; expected "
            f"0x000008{ndim:02x} (unsigned bytes, {ndim} dimension(s))"
        )
    return tuple(int(d) for d in np.frombuffer(head, dtype=">u4", count=ndim, offset=4))


def _parse_idx(data, name, ndim):
    """Parse the bytes of an unsigned-byte IDX file into an array.

    The header is checked against what MNIST files hold: magic number (two
    zero bytes, the type code 0x08 and the number of dimensions) and
    dimensions whose product matches the number of data bytes.
    """
    header = _header_size(ndim)
    try:
        shape = _idx_shape(data, ndim)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}.") from None
    expected = int(np.prod(shape, dtype=np.int64))
    if len(data) - header != expected:
        raise ValueError(
            f"{name}: the header announces shape {shape} ({expected} bytes) but "
            f"the file holds {len(data) - header} data bytes."
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


class _CorruptFile(OSError):
    """A file whose bytes are not the published MNIST file."""

    def __init__(self, path, reason):
        super().__init__(
            f"{path} is corrupt: {reason}. Delete it and call fetch_mnist again "
            "to download it, or replace it with a good copy."
        )
        self.reason = reason


def _read_payload(path, spec, gzipped):
    """Return the decompressed bytes of ``path`` (gzipped or raw IDX), bounded.

    Nothing is trusted before it is checked: a gzipped file larger than a
    gzipped ``spec`` can be is refused unread; the IDX header is read first and
    must announce the shape of ``spec``; then the body is read (inflated in
    chunks) into a buffer of exactly the size that shape implies, and one byte
    more is asked for: a longer stream is corrupt. At most that size plus one
    byte is ever inflated, whatever the file holds.
    """
    size, ndim = _file_size(spec), len(spec.shape)
    on_disk = path.stat().st_size
    if gzipped and on_disk > _gzip_cap(spec):
        raise _CorruptFile(
            path,
            f"it takes {on_disk:,} bytes, more than a gzipped {spec.name} of "
            f"{size:,} bytes can ({_gzip_cap(spec):,} at most)",
        )
    with (gzip.open if gzipped else open)(path, "rb") as f:
        head = f.read(_header_size(ndim))
        try:
            shape = _idx_shape(head, ndim)
        except ValueError as exc:
            raise _CorruptFile(path, str(exc)) from None
        if shape != spec.shape:
            raise _CorruptFile(
                path,
                f"its IDX header announces shape {shape}, but {spec.name} has "
                f"shape {spec.shape}",
            )
        what = "decompresses to" if gzipped else "holds"
        if not gzipped and on_disk > size:
            raise _CorruptFile(
                path,
                f"it {what} {on_disk:,} bytes, more than the {size:,} bytes "
                f"of an IDX file of shape {shape}",
            )
        data = bytearray(size)
        view = memoryview(data)
        done = len(head)
        view[:done] = head
        while done < size:
            chunk = f.read(min(_READ_CHUNK, size - done))
            if not chunk:
                raise _CorruptFile(
                    path,
                    f"it {what} {done:,} bytes, fewer than the {size:,} bytes of "
                    f"an IDX file of shape {shape}",
                )
            view[done : done + len(chunk)] = chunk
            done += len(chunk)
        if f.read(1):
            raise _CorruptFile(
                path,
                f"it {what} more than the {size:,} bytes of an IDX file of "
                f"shape {shape}",
            )
    return data


def _verify_and_parse(path, spec, gzipped=None):
    """Check the SHA-256 of the decompressed bytes of ``path``, then parse them.

    ``path`` is read as gzip if `gzipped`, by default if its name ends in
    ``.gz``.
    """
    if gzipped is None:
        gzipped = path.suffix == ".gz"
    try:
        data = _read_payload(path, spec, gzipped)
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise _CorruptFile(path, f"not a complete gzip file ({exc})") from None
    actual = hashlib.sha256(data).hexdigest()
    if actual != spec.sha256:
        raise _CorruptFile(
            path,
            f"the SHA-256 of its decompressed bytes is {actual}, "
            f"expected {spec.sha256}",
        )
    return _parse_idx(data, spec.name, len(spec.shape))


def _find(directory, name):
    for candidate in (directory / f"{name}.gz", directory / name):
        if candidate.is_file():
            return candidate
    return None


def _load(path, spec):
    # Read anew each time, never kept in memory: a kept copy of the training
    # images would outlive the caller's (45 MB for the 60,000 images).
    return _verify_and_parse(path, spec)


class _Progress:
    """A one-line download progress bar on a terminal, two lines elsewhere."""

    def __init__(self, label, total, stream=None):
        self.label = label
        self.total = total
        self.stream = sys.stderr if stream is None else stream
        self.tty = getattr(self.stream, "isatty", lambda: False)()
        self.done = 0
        self._last = 0.0
        if not self.tty:
            print(f"Downloading {label} ...", file=self.stream, flush=True)

    def update(self, n):
        self.done += n
        now = time.monotonic()
        if self.tty and now - self._last > 0.1:
            self._last = now
            if self.total:
                frac = min(self.done / self.total, 1.0)
                bar = "#" * int(30 * frac)
                text = f"{frac:4.0%} [{bar:<30}] {self.done / 1e6:.1f}/{self.total / 1e6:.1f} MB"
            else:
                text = f"{self.done / 1e6:.1f} MB"
            print(f"\r{self.label}: {text}", end="", file=self.stream, flush=True)

    def close(self, ok):
        status = "done" if ok else "failed"
        line = f"{self.label}: {self.done / 1e6:.1f} MB {status}"
        print(("\r" if self.tty else "") + line, file=self.stream, flush=True)


_TRANSIENT_HTTP = {408, 425, 429, 500, 502, 503, 504}


class _TooSlow(OSError):
    """A mirror that sends data, but far too slowly to finish."""


def _download_one(url, tmp, spec, timeout, min_rate, rate_window):
    """Stream ``url`` into the open binary file ``tmp``, bounded in size and time.

    At most :func:`_gzip_cap` bytes are accepted (whatever Content-Length
    says); more is a corrupt mirror and the socket is not read further. Each
    read waits at most `timeout` seconds, and in every `rate_window` seconds
    at least ``min_rate * rate_window`` bytes must arrive, or the mirror is
    abandoned as too slow.
    """
    label, cap = f"{spec.name}.gz", _gzip_cap(spec)
    request = urllib.request.Request(url, headers={"User-Agent": "skmnist"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        total = int(response.headers.get("Content-Length") or 0)
        if total > cap:
            raise _CorruptFile(
                url,
                f"it announces {total:,} bytes, more than a gzipped {spec.name} "
                f"can take ({cap:,} at most)",
            )
        progress = _Progress(label, total)
        ok = False
        window = [time.monotonic(), 0]  # when the window began, bytes by then

        def check_rate(stalled):
            now = time.monotonic()
            if not min_rate or now - window[0] < rate_window:
                return
            got = progress.done - window[1]
            if got < min_rate * rate_window:
                raise _TooSlow(
                    f"too slow: {got:,} bytes in {now - window[0]:.1f} s"
                    f"{' (then nothing)' if stalled else ''}, below "
                    f"min_rate={min_rate:g} bytes/s"
                ) from None
            window[:] = now, progress.done

        try:
            while True:
                try:
                    # read1 returns what has arrived: a slow mirror is seen
                    # as slow, and one that stalls after a window as too slow.
                    chunk = response.read1(_CHUNK)
                except TimeoutError:
                    check_rate(stalled=True)
                    raise
                if not chunk:
                    break
                if progress.done + len(chunk) > cap:
                    raise _CorruptFile(
                        url,
                        f"it sent more than {cap:,} bytes, more than a gzipped "
                        f"{spec.name} can take",
                    )
                tmp.write(chunk)
                progress.update(len(chunk))
                check_rate(stalled=False)
            if total and progress.done != total:
                raise http.client.IncompleteRead(b"", total - progress.done)
            ok = True
        finally:
            progress.close(ok)


def _failure(exc):
    """Describe a failed attempt; say whether trying the same URL again may help."""
    if isinstance(exc, _CorruptFile):
        return f"bad file, {exc.reason}", False
    if isinstance(exc, _TooSlow):
        return str(exc), False
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}", exc.code in _TRANSIENT_HTTP
    if isinstance(exc, urllib.error.URLError):
        if isinstance(exc.reason, TimeoutError):
            return "timed out", True
        return f"cannot connect ({exc.reason})", False
    if isinstance(exc, http.client.IncompleteRead):
        return "connection closed before the whole file arrived", True
    if isinstance(exc, TimeoutError):
        return "timed out", True
    if isinstance(exc, ConnectionError):
        return f"connection lost mid-transfer ({exc.strerror or exc})", True
    return str(exc) or type(exc).__name__, True


class _DownloadFailed(OSError):
    def __init__(self, failures):
        super().__init__("; ".join(f"{url}: {why}" for url, why in failures))


def _fetch_file(spec, directory, mirrors, n_retries, delay, timeout, rate):
    """Download one file into ``directory`` and return its path.

    Each mirror is tried in turn, and retried after transient failures; the
    download lands in a temporary file that is verified before it is renamed
    into place (:func:`skmnist._atomic.atomic_write`), so no partial or corrupt
    file is ever left behind. ``rate`` is ``(min_rate, rate_window)``.
    """
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OSError(
            f"Cannot create the MNIST data directory {directory} ({exc}). "
            "Pass a writable data_home or set SKMNIST_DATA."
        ) from None
    target = directory / f"{spec.name}.gz"
    failures = []
    for mirror in mirrors:
        url = mirror.rstrip("/") + f"/{spec.name}.gz"
        for attempt in range(n_retries + 1):
            if attempt:
                time.sleep(delay)
            opened = False
            try:
                with _atomic.atomic_write(target) as f:
                    opened = True
                    _download_one(url, f, spec, timeout, *rate)
                    f.flush()
                    _verify_and_parse(Path(f.name), spec, gzipped=True)
                return target
            except (OSError, http.client.HTTPException, ValueError) as exc:
                if not opened:
                    raise OSError(
                        f"Cannot write to the MNIST data directory {directory} "
                        f"({exc}). Pass a writable data_home or set SKMNIST_DATA."
                    ) from None
                why, transient = _failure(exc)
            if not transient or attempt == n_retries:
                tries = f" ({attempt + 1} attempts)" if attempt else ""
                failures.append((url, why + tries))
                break
    raise _DownloadFailed(failures)


def _not_found_message(missing, directory):
    names = ", ".join(f"{spec.name}.gz" for spec in missing)
    return (
        f"MNIST files not found: {names} (searched {directory}). Put the MNIST "
        "files there, or point data_home or the SKMNIST_DATA environment variable "
        "at a directory that holds them."
    )


def _check_arguments(subset, min_rate, rate_window):
    """Refuse a `subset` or download rule :func:`fetch_mnist` does not know."""
    if subset not in _SUBSETS:
        raise ValueError(
            f"subset must be one of {', '.join(map(repr, _SUBSETS))}; got {subset!r}."
        )
    if not isinstance(min_rate, numbers.Real) or not min_rate >= 0:
        raise ValueError(
            "min_rate must be a number of bytes per second, 0 or more (0 turns "
            f"the rule off); got {min_rate!r}."
        )
    if not isinstance(rate_window, numbers.Real) or not rate_window > 0:
        raise ValueError(
            f"rate_window must be a positive number of seconds; got {rate_window!r}."
        )


def _download_missing(specs, directory, urls, download):
    """Find the files of ``specs`` in ``directory``; download the missing ones.

    ``download(spec)`` fetches one file (:func:`_fetch_file`); None when
    downloads are not allowed, and then a missing file is an error naming
    the files, the directory and the mirrors.
    """
    missing = [spec for spec in specs if _find(directory, spec.name) is None]
    if missing and download is None:
        raise FileNotFoundError(
            _not_found_message(missing, directory)
            + " Or pass download_if_missing=True to download them from "
            + ", ".join(urls)
            + "."
        )
    for i, spec in enumerate(missing):
        try:
            download(spec)
        except _DownloadFailed as exc:
            raise OSError(
                _not_found_message(missing[i:], directory)
                + f" Downloading {spec.name}.gz failed on every mirror: {exc}."
                " To use other mirrors, set SKMNIST_MIRRORS or pass mirrors."
            ) from None


def _read_verified(spec, directory, download):
    """The array of ``spec``'s file in ``directory``, checked by its SHA-256.

    A corrupt file is downloaded again when ``download`` allows (the verified
    download replaces it atomically), else reported.
    """
    path = _find(directory, spec.name)
    try:
        return _load(path, spec)
    except _CorruptFile as corrupt:
        if download is None:
            raise
        try:
            path = download(spec)
        except OSError as exc:
            raise OSError(f"{corrupt} Downloading a fresh copy failed: {exc}") from None
    return _load(path, spec)


def _join(parts, arrays):
    """``(images, target)`` of the subsets ``parts``, in order, from ``arrays``."""
    images, target = [], []
    for part in parts:
        image_spec, label_spec = _FILES[part]
        x, y = arrays[image_spec.name], arrays[label_spec.name]
        if len(x) != len(y):
            raise OSError(
                f"{image_spec.name} holds {len(x)} images but {label_spec.name} "
                f"holds {len(y)} labels."
            )
        images.append(x)
        target.append(y)
    images = images[0] if len(images) == 1 else np.concatenate(images)
    target = target[0] if len(target) == 1 else np.concatenate(target)
    return images, target.astype(np.int64)


def fetch_mnist(
    subset="train",
    *,
    data_home=None,
    download_if_missing=True,
    return_X_y=False,
    mirrors=None,
    n_retries=2,
    delay=1.0,
    timeout=30.0,
    min_rate=10_000.0,
    rate_window=30.0,
):
    """Load the MNIST handwritten digits from the four original IDX files.

    The files are looked for in one directory: `data_home` if given, else
    the ``SKMNIST_DATA`` environment variable, else
    ``sklearn.datasets.get_data_home()/mnist`` (which honours
    ``SCIKIT_LEARN_DATA``). Either the gzipped files
    (``train-images-idx3-ubyte.gz`` ...) or their decompressed versions are
    read; a read-only directory works. Every file is checked by the SHA-256 of
    its decompressed bytes before it is parsed.

    Read more about the data in the returned ``DESCR``.

    Parameters
    ----------
    subset : {"train", "test", "all"}, default="train"
        Which part to load: the 60,000 training images, the 10,000 test
        images, or all 70,000 with the training images first.

    data_home : str or path-like, default=None
        Directory holding (or to receive) the files. By default the
        ``SKMNIST_DATA`` environment variable, else
        ``get_data_home()/mnist``.

    download_if_missing : bool, default=True
        If False, raise a :class:`FileNotFoundError` instead of downloading
        missing files; the network is never touched.

    return_X_y : bool, default=False
        If True, return ``(images, target)`` instead of a Bunch.

    mirrors : list of str, default=None
        Base URLs to download from, tried in turn. By default the
        comma-separated ``SKMNIST_MIRRORS`` environment variable, else
        :data:`skmnist.datasets.MIRRORS`.

    n_retries : int, default=2
        How many times a mirror is retried after a transient failure (a
        timeout, a dropped connection, HTTP 5xx) before the next one is tried.

    delay : float, default=1.0
        Seconds to wait between retries.

    timeout : float, default=30.0
        Seconds without data after which a download attempt is abandoned (a
        transient failure, retried).

    min_rate : float, default=10_000.0
        The slowest download kept, in bytes per second: in every `rate_window`
        seconds of a download at least ``min_rate * rate_window`` bytes must
        arrive, or the mirror is abandoned as too slow and the next one tried
        without retrying (this includes a transfer that stalls for `timeout`
        seconds once a window has passed). The default (about 80 kbit/s, 20
        minutes for all of MNIST) passes a slow but usable link and drops a
        mirror that trickles; 0 turns the rule off.

    rate_window : float, default=30.0
        Seconds over which `min_rate` is measured. A mirror that stalls is
        abandoned after `timeout` seconds (for the next mirror if
        `rate_window` has passed by then, else retried), one that trickles
        after at most ``rate_window + timeout`` seconds (a minute with the
        defaults). No mirror is read past the size a gzipped file can take
        (its decompressed size plus 1.6%, whatever Content-Length says), so
        one that streams without end is refused as corrupt and nothing is
        left in `data_home`. Each attempt thus ends in bounded time (at worst
        that size over `min_rate`, for a mirror that keeps to exactly that
        rate), and so does the whole call: at most ``n_retries + 1`` attempts
        per mirror and file.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the following attributes.

        images : ndarray of shape (n_samples, 28, 28), dtype uint8
            The digits, 0 for background up to 255 for ink.
        data : ndarray of shape (n_samples, 784), dtype uint8
            The same pixels, one row per image (a view of ``images``).
        target : ndarray of shape (n_samples,), dtype int64
            The digit shown by each image.
        target_names : ndarray of shape (10,)
            The classes, ``0`` to ``9``.
        DESCR : str
            A description of the dataset.

    (images, target) : tuple if ``return_X_y`` is True
        The images (n_samples, 28, 28) and the labels (n_samples,), ready for
        :func:`skmnist.make_mnist_pipeline`.

    Raises
    ------
    FileNotFoundError
        If a file is missing and `download_if_missing` is False.
    OSError
        If a file is corrupt, or missing and no mirror could provide it.

    Examples
    --------
    >>> from skmnist import fetch_mnist
    >>> mnist = fetch_mnist("test")  # doctest: +SKIP
    >>> mnist.images.shape, mnist.target[:5]  # doctest: +SKIP
    ((10000, 28, 28), array([7, 2, 1, 0, 4]))
    """
    _check_arguments(subset, min_rate, rate_window)
    directory = _data_dir(data_home)
    urls = _mirror_list(mirrors)
    parts = ("train", "test") if subset == "all" else (subset,)
    specs = [spec for part in parts for spec in _FILES[part]]
    download = None
    if download_if_missing:
        download = functools.partial(
            _fetch_file,
            directory=directory,
            mirrors=urls,
            n_retries=n_retries,
            delay=delay,
            timeout=timeout,
            rate=(min_rate, rate_window),
        )

    _download_missing(specs, directory, urls, download)
    arrays = {spec.name: _read_verified(spec, directory, download) for spec in specs}
    images, target = _join(parts, arrays)
    if return_X_y:
        return images, target
    return Bunch(
        images=images,
        data=images.reshape(len(images), -1),
        target=target,
        target_names=np.arange(10),
        DESCR=DESCR,
    )
