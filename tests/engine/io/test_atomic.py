"""engine.io.atomic: every file the project writes is whole, private and durable."""

import os
import threading

import pytest

from engine.io import atomic
from localapi.auth import load_signing_key

posix = pytest.mark.skipif(os.name == "nt", reason="POSIX permissions")


@posix
def test_files_are_0600_under_any_umask(tmp_path):
    previous = os.umask(0)
    try:
        path = atomic.write_text(tmp_path / "a.txt", "hello")
    finally:
        os.umask(previous)
    assert path.read_text() == "hello"
    assert path.stat().st_mode & 0o777 == 0o600


def test_a_failure_leaves_the_old_file_and_no_temp(tmp_path):
    target = tmp_path / "a.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic.atomic_write(target) as fh:
            fh.write(b"half")
            raise RuntimeError("disk on fire")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]


def test_exclusive_lets_only_the_first_writer_win(tmp_path):
    target = tmp_path / "key"
    atomic.write_text(target, "first", exclusive=True)
    with pytest.raises(FileExistsError):
        atomic.write_text(target, "second", exclusive=True)
    assert target.read_text() == "first"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["key"]


def test_the_temp_name_is_unpredictable(tmp_path, monkeypatch):
    # The old signing-key writer used the fixed name signing.tmp: a planted file (or a
    # second process) could race it. mkstemp never reuses an existing name.
    (tmp_path / ".key.tmp").write_text("planted")
    atomic.write_text(tmp_path / "key", "real")
    assert (tmp_path / ".key.tmp").read_text() == "planted"
    assert (tmp_path / "key").read_text() == "real"


def test_concurrent_first_starts_agree_on_one_signing_key(tmp_path):
    keys, barrier = [], threading.Barrier(8)

    def start():
        barrier.wait()
        keys.append(load_signing_key(tmp_path))

    threads = [threading.Thread(target=start) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(keys) == 8 and len(set(keys)) == 1
    assert sorted(p.name for p in (tmp_path / "secrets").iterdir()) == ["signing.key"]


@posix
def test_a_staged_file_is_published_private_and_whole(tmp_path):
    staged = tmp_path / "staging" / "upload-1"
    staged.parent.mkdir()
    staged.write_bytes(b"a,b\n1,2\n")
    os.chmod(staged, 0o644)
    (tmp_path / "ds").mkdir()
    target = atomic.move_into_place(staged, tmp_path / "ds" / "seed.csv")
    assert target.read_bytes() == b"a,b\n1,2\n" and not staged.exists()
    assert target.stat().st_mode & 0o777 == 0o600
