"""``fsread.read_regular``: what sfcred reads from a path a user or another tool controls is
opened without blocking and refused unless it is a regular file under its cap."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from sfcred import fsread
from sfcred.errors import ConfigError

pytestmark = pytest.mark.unit


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    path = tmp_path / "key.pem"
    os.mkfifo(path)
    done: list[BaseException] = []

    def read() -> None:
        try:
            fsread.read_regular(str(path), 100, "the key file")
        except BaseException as e:  # handed to the test below
            done.append(e)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(5)
    assert not reader.is_alive(), "read_regular blocked on a FIFO"
    assert isinstance(done[0], fsread.NotRegular)
    assert str(done[0]) == f"cannot read the key file {path}: it is a FIFO, not a regular file"


def test_a_folder_or_an_oversized_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(fsread.NotRegular, match="it is a folder"):
        fsread.read_regular(str(tmp_path), 100, "the file")
    big = tmp_path / "big"
    big.write_bytes(b"x" * 2049)
    with pytest.raises(ConfigError, match="it is over 2 KiB"):
        fsread.read_regular(str(big), 2048, "the file")
    assert fsread.read_regular(str(big), 4096, "the file") == b"x" * 2049


def test_a_link_to_a_regular_file_is_followed(tmp_path: Path) -> None:
    """A key is often a link (a Kubernetes secret mount); a missing file stays an OSError."""
    target = tmp_path / "..data-key"
    target.write_bytes(b"pem")
    link = tmp_path / "key.pem"
    link.symlink_to(target)
    assert fsread.read_regular(str(link), 100, "the key file") == b"pem"
    with pytest.raises(FileNotFoundError):
        fsread.read_regular(str(tmp_path / "absent"), 100, "the key file")


def test_the_cache_reads_an_entry_of_up_to_two_mib(tmp_path: Path) -> None:
    from sfcred.tokens import entry

    assert entry.MAX_ENTRY_BYTES == 2 * 1024 * 1024
    path = tmp_path / "entry"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, b"x" * (entry.MAX_ENTRY_BYTES - 1))
    os.close(fd)
    assert len(fsread.read_private(str(path), entry.MAX_ENTRY_BYTES) or b"") == \
        entry.MAX_ENTRY_BYTES - 1
