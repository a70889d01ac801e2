"""The --dask options' failures: one line, exit 2, nothing written (no cluster needed)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from engine.cli import main
from engine.distributed.sources import partition_files
from engine.errors import SimioError
from tests.engine import fixtures


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "model.simio"
    fixtures.quickstart_synthesizer().save(path)
    return path


@pytest.mark.parametrize("address", ["nonsense", "http://host:8786", ""])
def test_a_bad_address_is_a_one_line_error(model_path, tmp_path, address):
    result = CliRunner().invoke(main, ["generate", str(model_path), "--rows", "10",
                                       "--dask", address, "-o", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "error: simio_invalid_field: --dask must be 'local' or a scheduler" in result.output
    assert not (tmp_path / "out").exists()


def test_an_unreachable_scheduler_is_a_cluster_error(model_path, tmp_path, monkeypatch):
    from engine.distributed import cluster

    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT", 2)
    result = CliRunner().invoke(main, ["generate", str(model_path), "--rows", "10",
                                       "--dask", "tcp://127.0.0.1:9", "-o",
                                       str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert "error: simio_cluster_unavailable: no Dask scheduler answered" in result.output
    assert list(tmp_path.iterdir()) == []


def test_a_dataset_is_parquet_only(model_path, tmp_path):
    result = CliRunner().invoke(main, ["generate", str(model_path), "--rows", "10",
                                       "--format", "csv", "--dask", "local",
                                       "-o", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "--format csv is not available with --dask" in result.output


def test_one_file_output_refuses_a_directory(model_path, tmp_path):
    result = CliRunner().invoke(main, ["generate", str(model_path), "--rows", "10",
                                       "-o", str(tmp_path)])
    assert result.exit_code == 2
    assert f"output {tmp_path} is a directory" in result.output


def test_partition_sources(tmp_path):
    for name in ("b.parquet", "a.parquet", "_SUCCESS", ".a.parquet.tmp", "notes.json"):
        (tmp_path / name).write_bytes(b"")
    assert [p.name for p in partition_files(tmp_path)] == ["a.parquet", "b.parquet"]
    assert [p.name for p in partition_files(tmp_path / "*.parquet")] == ["a.parquet",
                                                                          "b.parquet"]
    assert [p.name for p in partition_files(tmp_path / "a.parquet")] == ["a.parquet"]
    with pytest.raises(SimioError, match="not a file, a folder or a glob"):
        partition_files(tmp_path / "missing")
    with pytest.raises(SimioError, match="holds no Parquet or CSV"):
        partition_files(tmp_path / "*.xlsx")
