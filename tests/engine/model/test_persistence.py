"""Model files: a zip of manifest.json + .npy arrays, no pickle, checked on load, written
atomically. Real files in tmp_path; every bad file must be ``simio_invalid_model_file``."""

from __future__ import annotations

import hashlib
import io
import json
import os
import struct
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.errors import SimioError
from engine.io import atomic
from engine.model import persistence
from engine.model.persistence import load_model, save_model
from engine.synthesizer import Synthesizer
from tests.engine import fixtures

INVALID = "simio_invalid_model_file"

@pytest.fixture(scope="module")
def synth() -> Synthesizer:
    return fixtures.quickstart_synthesizer()


@pytest.fixture
def saved(synth, tmp_path) -> Path:
    return synth.save(tmp_path / "model.simio")


def assert_invalid(path):
    with pytest.raises(SimioError) as info:
        Synthesizer.load(path)
    assert info.value.code == INVALID, info.value
    return info.value


def entries(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def write_zip(path, contents: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, blob in contents.items():
            zf.writestr(name, blob)
    return path


def with_manifest(contents, manifest: dict, *, digest: bool) -> dict[str, bytes]:
    """``contents`` with a new manifest.json; ``digest``: recompute manifest.sha256 too."""
    body = json.dumps(manifest, sort_keys=True, indent=1).encode()
    out = dict(contents, **{"manifest.json": body})
    if digest:
        out["manifest.sha256"] = hashlib.sha256(body).hexdigest().encode()
    return out


def entry_data_span(raw: bytes, info: zipfile.ZipInfo) -> tuple[int, int]:
    """(start, length) of an entry's stored (compressed) bytes inside the zip file."""
    name_len, extra_len = struct.unpack("<HH", raw[info.header_offset + 26:info.header_offset + 30])
    return info.header_offset + 30 + name_len + extra_len, info.compress_size


def outcome(path, expected: pd.DataFrame) -> str:
    """'invalid', 'same' (loads and samples identically) or what went wrong."""
    try:
        loaded = Synthesizer.load(path)
    except SimioError as exc:
        return "invalid" if exc.code == INVALID else f"SimioError {exc.code}"
    except Exception as exc:  # noqa: BLE001 - the point is to see what escapes
        return f"{type(exc).__module__}.{type(exc).__name__}: {exc}"
    try:
        return "same" if loaded.sample(300, seed=1).equals(expected) else "loaded a different model"
    except Exception as exc:  # noqa: BLE001
        return f"loaded, then sampling raised {type(exc).__name__}: {exc}"


# -- round trip ----------------------------------------------------------------------------

def test_round_trip_gives_identical_samples(synth, saved):
    loaded = Synthesizer.load(saved)
    for seed in (0, 1, 2**40):
        pd.testing.assert_frame_equal(loaded.sample(20_000, seed=seed),
                                      synth.sample(20_000, seed=seed), check_exact=True)
    assert loaded.schema_.to_dict() == synth.schema_.to_dict()
    assert loaded.cleaning_summary_ == synth.cleaning_summary_
    assert loaded.cleaning_decisions_ == synth.cleaning_decisions_


def test_round_trip_keeps_parameters_and_missing_states(tmp_path):
    synth = Synthesizer(max_parents=2, max_upweight=7.5).fit(fixtures.quickstart_with_missing())
    loaded = Synthesizer.load(synth.save(tmp_path / "sub" / "m.simio"))   # parent dir created
    assert (loaded.auto_clean, loaded.max_parents, loaded.max_upweight) == (True, 2, 7.5)
    assert loaded.model_.parents_ == synth.model_.parents_
    assert loaded.model_.kinds_ == synth.model_.kinds_
    for a, b in zip(loaded.model_.tables_, synth.model_.tables_):
        np.testing.assert_array_equal(a, b)
    pd.testing.assert_frame_equal(loaded.sample(5000, seed=3), synth.sample(5000, seed=3),
                                  check_exact=True)


def test_model_level_round_trip(synth, tmp_path):
    path = save_model(tmp_path / "bare.simio", synth.model_, extra={"note": [1, 2]})
    model, extra = load_model(path)
    assert extra == {"note": [1, 2]}
    assert model.n_training_rows_ == synth.model_.n_training_rows_ == 800
    assert model.max_parents == synth.model_.max_parents
    np.testing.assert_array_equal(model.kernel_tables.cdf, synth.model_.kernel_tables.cdf)


def test_saving_twice_overwrites(synth, tmp_path):
    path = tmp_path / "m.simio"
    Synthesizer(max_parents=0).fit(fixtures.quickstart()).save(path)
    synth.save(path)
    assert Synthesizer.load(path).model_.parents_ == synth.model_.parents_


# -- no pickle ---------------------------------------------------------------------------

def test_file_holds_only_json_and_plain_npy(saved):
    contents = entries(saved)
    assert set(contents) >= {"manifest.json", "manifest.sha256"}
    manifest = json.loads(contents["manifest.json"])
    arrays = [name for name in contents if name.endswith(".npy")]
    assert set(contents) == {"manifest.json", "manifest.sha256", *arrays}
    assert set(arrays) == set(manifest["checksums"])
    for name in arrays:
        array = np.load(io.BytesIO(contents[name]), allow_pickle=False)
        assert array.dtype.kind in "biuf", (name, array.dtype)
        assert hashlib.sha256(contents[name]).hexdigest() == manifest["checksums"][name]
    assert manifest["format"] == "simio-model"
    assert manifest["format_version"] == persistence.FORMAT_VERSION
    assert b"pickle" not in contents["manifest.json"].lower()


# -- bad files ---------------------------------------------------------------------------

@pytest.mark.parametrize("keep", [0.0, 0.1, 0.5, 0.9, -1])
def test_truncated_file(saved, keep):
    raw = saved.read_bytes()
    cut = len(raw) - 1 if keep == -1 else int(len(raw) * keep)
    saved.write_bytes(raw[:cut])
    assert_invalid(saved)


def test_one_byte_flipped_inside_an_array_entry(synth, saved):
    # Flip one bit in the stored (deflated) bytes of every array entry, at 10%, 50% and
    # 90% of its length. Depending on where it lands, zipfile reports a CRC mismatch
    # (BadZipFile) or zlib fails to inflate (zlib.error). Both are a corrupt model file.
    raw = saved.read_bytes()
    expected = synth.sample(300, seed=1)
    with zipfile.ZipFile(saved) as zf:
        infos = [i for i in zf.infolist() if i.filename.endswith(".npy")]
    results = {}
    for info in infos:
        start, length = entry_data_span(raw, info)
        for share in (0.1, 0.5, 0.9):
            corrupt = bytearray(raw)
            corrupt[start + int(length * share)] ^= 0x01
            saved.write_bytes(corrupt)
            results[(info.filename, share)] = outcome(saved, expected)
    escaped = {k: v for k, v in results.items() if v != "invalid"}
    assert not escaped, f"{len(escaped)} of {len(results)} flips: {escaped}"


def test_array_bytes_changed_behind_a_valid_zip(saved):
    # The zip itself is consistent (fresh CRCs); only the manifest's SHA-256 catches it.
    contents = entries(saved)
    name = "tables/4.npy"
    blob = bytearray(contents[name])
    blob[-3] ^= 0x01                              # inside the float data, after the header
    contents[name] = bytes(blob)
    error = assert_invalid(write_zip(saved, contents))
    assert "checksum" in error.detail


def test_edited_manifest_with_the_old_digest(saved):
    contents = entries(saved)
    manifest = json.loads(contents["manifest.json"])
    manifest["n_training_rows"] = 801
    error = assert_invalid(write_zip(saved, with_manifest(contents, manifest, digest=False)))
    assert "altered" in error.detail


@pytest.mark.parametrize("version", [0, 3, "2", None])
def test_other_format_version(saved, version):
    contents = entries(saved)
    manifest = json.loads(contents["manifest.json"])
    manifest["format_version"] = version
    error = assert_invalid(write_zip(saved, with_manifest(contents, manifest, digest=True)))
    assert "version" in error.detail


def test_other_format_name(saved):
    contents = entries(saved)
    manifest = json.loads(contents["manifest.json"])
    manifest["format"] = "something-else"
    assert_invalid(write_zip(saved, with_manifest(contents, manifest, digest=True)))


def _digested(body: bytes) -> dict[str, bytes]:
    return {"manifest.json": body, "manifest.sha256": hashlib.sha256(body).hexdigest().encode()}


@pytest.mark.parametrize("contents", [
    {"readme.txt": b"hello"},
    {"manifest.json": b'{"format": "simio-model"}'},                       # no digest
    _digested(b"[1, 2]"),
    _digested(b"\xff\xfe"),
    _digested(b'{"format": "simio-model", "format_version": 1}'),          # no arrays listed
], ids=["no-manifest", "no-digest", "json-list", "not-utf8", "bare-manifest"])
def test_foreign_zip(tmp_path, contents):
    assert_invalid(write_zip(tmp_path / "foreign.simio", contents))


def test_csv_renamed_to_simio(tmp_path):
    path = tmp_path / "seed.simio"
    path.write_bytes(fixtures.QUICKSTART_CSV.read_bytes())
    assert_invalid(path)


@pytest.mark.parametrize("blob", [b"", b"PK\x03\x04", b"PK\x05\x06" + bytes(18)],
                         ids=["empty", "zip-magic-only", "empty-zip"])
def test_other_non_models(tmp_path, blob):
    path = tmp_path / "x.simio"
    path.write_bytes(blob)
    assert_invalid(path)


def test_missing_file(tmp_path):
    error = assert_invalid(tmp_path / "nope.simio")
    assert "does not exist" in error.detail


def test_directory_instead_of_file(tmp_path):
    assert_invalid(tmp_path)


def test_array_count_or_shape_inconsistent_with_manifest(saved):
    contents = entries(saved)
    manifest = json.loads(contents["manifest.json"])
    # A table of the right dtype but the wrong shape, correctly checksummed.
    buffer = io.BytesIO()
    np.save(buffer, np.full((2, 3), 1 / 3), allow_pickle=False)
    contents["tables/4.npy"] = buffer.getvalue()
    manifest["checksums"]["tables/4.npy"] = hashlib.sha256(buffer.getvalue()).hexdigest()
    error = assert_invalid(write_zip(saved, with_manifest(contents, manifest, digest=True)))
    assert "shape" in error.detail


def test_cyclic_structure_in_manifest(saved):
    contents = entries(saved)
    manifest = json.loads(contents["manifest.json"])
    manifest["parents"] = [[1], [0], [], [], [0, 1, 2]]
    assert_invalid(write_zip(saved, with_manifest(contents, manifest, digest=True)))


def test_object_array_is_refused_not_unpickled(saved):
    contents = entries(saved)
    manifest = json.loads(contents["manifest.json"])
    buffer = io.BytesIO()
    np.save(buffer, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    contents["tables/0.npy"] = buffer.getvalue()
    manifest["checksums"]["tables/0.npy"] = hashlib.sha256(buffer.getvalue()).hexdigest()
    assert_invalid(write_zip(saved, with_manifest(contents, manifest, digest=True)))


@pytest.mark.parametrize("edit", ["checksums-list", "encoding-not-object"])
def test_wrongly_typed_manifest_fields(saved, edit):
    # A manifest whose digest matches but whose fields have the wrong JSON types.
    contents = entries(saved)
    manifest = json.loads(contents["manifest.json"])
    if edit == "checksums-list":
        manifest["checksums"] = sorted(manifest["checksums"])
    else:
        manifest["encodings"][0] = "age"
    assert_invalid(write_zip(saved, with_manifest(contents, manifest, digest=True)))


def _central_entry(raw: bytes, name: bytes) -> int:
    """Offset of ``name``'s central-directory record."""
    pos = raw.index(b"PK\x01\x02")
    while True:
        name_len, extra_len, comment_len = struct.unpack("<HHH", raw[pos + 28:pos + 34])
        if raw[pos + 46:pos + 46 + name_len] == name:
            return pos
        pos += 46 + name_len + extra_len + comment_len


@pytest.mark.parametrize("field", ["encrypted-flag", "compression-method", "version-needed"])
def test_corrupted_zip_headers(saved, field):
    # One damaged field in manifest.json's central-directory record: zipfile raises
    # RuntimeError ("encrypted, password required") or NotImplementedError.
    raw = bytearray(saved.read_bytes())
    record = _central_entry(bytes(raw), b"manifest.json")
    if field == "encrypted-flag":
        raw[record + 8] |= 0x01
    elif field == "compression-method":
        raw[record + 10:record + 12] = struct.pack("<H", 99)
    else:
        raw[record + 6:record + 8] = struct.pack("<H", 84)
    saved.write_bytes(bytes(raw))
    assert_invalid(saved)


def test_any_single_byte_corruption_is_caught_or_harmless(synth, saved):
    # A sweep over byte positions (every 31st, so every entry and header is hit): each
    # corrupt file must either be refused as simio_invalid_model_file or load a model that
    # samples exactly like the original (bytes zipfile ignores: timestamps, comments).
    raw = saved.read_bytes()
    expected = synth.sample(300, seed=1)
    results = {}
    for position in range(0, len(raw), 31):
        corrupt = bytearray(raw)
        corrupt[position] ^= 0xFF
        saved.write_bytes(corrupt)
        results[position] = outcome(saved, expected)
    bad = {p: r for p, r in results.items() if r not in ("invalid", "same")}
    assert not bad, (f"{len(bad)} of {len(results)} corruptions escaped, e.g. "
                     f"{dict(list(bad.items())[:5])}")
    assert sum(r == "invalid" for r in results.values()) > 0.5 * len(results)


# -- atomic write ------------------------------------------------------------------------

def _fail_replace(*args, **kwargs):
    raise OSError("disk on fire")


def test_failed_write_leaves_no_target_and_no_temp_files(synth, tmp_path, monkeypatch):
    monkeypatch.setattr(atomic.os, "replace", _fail_replace)
    target = tmp_path / "model.simio"
    with pytest.raises(OSError, match="disk on fire"):
        synth.save(target)
    assert list(tmp_path.iterdir()) == []


def test_failed_overwrite_keeps_the_old_file(synth, tmp_path, monkeypatch):
    target = tmp_path / "model.simio"
    old = Synthesizer(max_parents=0).fit(fixtures.quickstart())
    old.save(target)
    before = target.read_bytes()
    monkeypatch.setattr(atomic.os, "replace", _fail_replace)
    with pytest.raises(OSError):
        synth.save(target)
    monkeypatch.undo()
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.simio"]
    assert Synthesizer.load(target).model_.edges == []


def test_failure_while_writing_the_zip_leaves_nothing(synth, tmp_path, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("interrupted")

    monkeypatch.setattr(persistence.zipfile.ZipFile, "writestr", boom)
    with pytest.raises(RuntimeError, match="interrupted"):
        synth.save(tmp_path / "model.simio")
    assert list(tmp_path.iterdir()) == []


def test_save_returns_the_path_and_uses_os_replace(synth, tmp_path, monkeypatch):
    calls = []
    real_replace = os.replace

    def spy(src, dst):
        calls.append((Path(src), Path(dst)))
        return real_replace(src, dst)

    monkeypatch.setattr(atomic.os, "replace", spy)
    target = tmp_path / "m.simio"
    assert synth.save(target) == target
    assert len(calls) == 1 and calls[0][1] == target
    assert calls[0][0].parent == tmp_path and calls[0][0] != target
