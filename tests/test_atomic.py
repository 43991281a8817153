"""Atomic writes: whole or nothing, and otherwise as ``open(path, "wb")`` writes.

The public writers (``skmnist.save``, ``skmnist export``, ``fetch_mnist``'s
downloads) are tested in their own files; here the helper meets the file
system's odd corners: special files, links, read-only and failing disks.
"""

import os
import resource
import subprocess
import sys

import pytest

from skmnist._atomic import atomic_write, check_writable, make_directory, write_bytes


def _entries(directory):
    return sorted(p.name for p in directory.iterdir())


def test_a_failure_inside_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "out.bin"
    path.write_bytes(b"old")
    with pytest.raises(KeyboardInterrupt):
        with atomic_write(path) as f:
            f.write(b"half of the new")
            raise KeyboardInterrupt
    assert path.read_bytes() == b"old" and _entries(tmp_path) == ["out.bin"]


def test_the_caller_can_read_the_temporary_back_before_it_lands(tmp_path):
    path = tmp_path / "out.bin"
    with atomic_write(path) as f:
        f.write(b"new")
        f.flush()
        with open(f.name, "rb") as back:
            assert back.read() == b"new"
        assert not path.exists()
    assert path.read_bytes() == b"new"


def test_a_dangling_link_is_written_through_as_open_does(tmp_path):
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "made-by-the-write")
    write_bytes(link, b"new")
    assert link.is_symlink() and (tmp_path / "made-by-the-write").read_bytes() == b"new"


def test_a_link_loop_is_one_error_naming_the_path(tmp_path):
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    with pytest.raises(OSError, match=f"^cannot write {loop}: "):
        write_bytes(loop, b"new")
    assert _entries(tmp_path) == ["loop"] and loop.is_symlink()


def test_a_directory_or_a_fifo_at_the_path_is_refused_and_kept(tmp_path):
    directory, fifo = tmp_path / "dir", tmp_path / "fifo"
    directory.mkdir()
    os.mkfifo(fifo)
    with pytest.raises(IsADirectoryError, match=f"^cannot write {directory}: it is"):
        write_bytes(directory, b"new")
    with pytest.raises(OSError, match=f"^cannot write {fifo}: it exists and is not a"):
        check_writable(fifo)
    with pytest.raises(OSError, match="not a regular file"):
        write_bytes(fifo, b"new")
    assert directory.is_dir() and fifo.is_fifo()  # neither replaced by a file
    assert _entries(tmp_path) == ["dir", "fifo"]


def test_a_read_only_directory_names_the_path_and_keeps_the_old_file(read_only_dir):
    path = read_only_dir / "old"
    for attempt in (check_writable, lambda p: write_bytes(p, b"new")):
        with pytest.raises(OSError, match=f"^cannot write {path}: ") as caught:
            attempt(path)
        assert ".tmp" not in str(caught.value)
    assert path.read_bytes() == b"old" and _entries(read_only_dir) == ["old"]
    with pytest.raises(OSError, match=f"^cannot write {read_only_dir / 'x'}: "):
        make_directory(read_only_dir / "x")


def test_two_outputs_that_are_one_file_are_refused(tmp_path):
    (tmp_path / "link").symlink_to(tmp_path / "model.skmnist")
    with pytest.raises(ValueError, match="they are the same file"):
        check_writable(tmp_path / "model.skmnist", tmp_path / "link")
    check_writable(tmp_path / "a", tmp_path / "b")
    assert _entries(tmp_path) == ["link"]  # the checks leave nothing behind


def test_make_directory_refuses_a_file_in_the_way(tmp_path):
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(NotADirectoryError, match="it is not a directory"):
        make_directory(tmp_path / "file")
    make_directory(tmp_path / "a" / "b")
    assert (tmp_path / "a" / "b").is_dir() and _entries(tmp_path / "a" / "b") == []


_WRITE_PAST_THE_LIMIT = """
import resource, sys
from skmnist._atomic import write_bytes
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
try:
    write_bytes(sys.argv[1], bytes(100_000))
except OSError as exc:
    print(type(exc).__name__, exc)
"""


def test_a_disk_that_refuses_the_write_leaves_the_old_file(tmp_path):
    # RLIMIT_FSIZE: the kernel refuses writes past 4 KiB (EFBIG), as a full
    # disk refuses them (ENOSPC), part way through the file.
    path = tmp_path / "out.bin"
    path.write_bytes(b"old")
    result = subprocess.run(
        [sys.executable, "-c", _WRITE_PAST_THE_LIMIT, str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == f"OSError cannot write {path}: File too large"
    assert path.read_bytes() == b"old" and _entries(tmp_path) == ["out.bin"]
    assert resource.getrlimit(resource.RLIMIT_FSIZE)[0] != 4096  # the child's only
