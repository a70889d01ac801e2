"""Safe model files: a zip of ``manifest.json`` and ``.npy`` arrays. Never pickle.

The manifest names the format and its version, carries the schema, cleaning summary,
encodings and structure as plain JSON, and lists every array with its SHA-256. Loading
checks all of it (``allow_pickle=False`` on every array), so a truncated, altered or
foreign file is a ``simio_invalid_model_file`` error instead of a crash or a silent
mis-model. Files are written to a temporary name and renamed into place.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
import zlib
from pathlib import Path

import numpy as np

from engine.errors import SimioError
from engine.io.atomic import atomic_write
from engine.model.encoding import NodeEncoding
from engine.model.network import BayesianNetworkModel
from engine.model.relations import NODE_KINDS, NUMERIC_KINDS
from engine.model.scores import PROBIT, TABLE
from engine.schema import Schema

FORMAT = "simio-model"
# Version 2 (issue 11): within-bin regressions, bin shares, seed precision, relations. Version 1
# files still load: they have none of these and sample exactly as they did.
FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)
RELATION_KINDS = NUMERIC_KINDS + NODE_KINDS
MANIFEST = "manifest.json"
# Digest of the manifest bytes: catches edits and corruption (not an authenticity check).
MANIFEST_DIGEST = "manifest.sha256"
ZIP_TIME = (1980, 1, 1, 0, 0, 0)            # the zip format's epoch
# Float64 probability tables, latent means and within-bin regressions deflate by under 7%
# while deflating them was a third of a 20k x 60 train's save (issue 12): they are stored
# as they are. The manifest, encodings and seed marginals still deflate (5-10x smaller).
STORED_PREFIXES = ("tables/", "latents/", "within/")


def save_model(path, model: BayesianNetworkModel, *, extra: dict | None = None,
               extra_arrays: dict[str, np.ndarray] | None = None) -> Path:
    """``extra``: plain JSON; ``extra_arrays``: named arrays (no objects) stored beside the
    model's, checked the same way, and handed back by ``load_model`` as ``extra["arrays"]``."""
    arrays: dict[str, np.ndarray] = {}
    extra_names = {key: f"extra/{key}.npy" for key in sorted(extra_arrays or {})}
    for key, name in extra_names.items():
        arrays[name] = np.ascontiguousarray(extra_arrays[key])
    encodings = []
    for j, enc in enumerate(model.encodings_):
        entry = enc.meta()
        entry["arrays"] = {}
        for key, value in enc.arrays().items():
            name = f"encodings/{j}/{key}.npy"
            arrays[name] = np.ascontiguousarray(value)
            entry["arrays"][key] = name
        encodings.append(entry)
    tables = []
    for j, table in enumerate(model.tables_):
        name = f"tables/{j}.npy"
        arrays[name] = np.ascontiguousarray(table, dtype=np.float64)
        tables.append(name)
    latents = []
    for j, latent in enumerate(getattr(model, "latents_", None) or [None] * len(tables)):
        if latent is None:
            latents.append(None)
            continue
        arrays[f"latents/{j}/mu.npy"] = np.ascontiguousarray(latent["mu"], dtype=np.float64)
        arrays[f"latents/{j}/cum.npy"] = np.ascontiguousarray(latent["cum"], dtype=np.float64)
        latents.append({"mu": f"latents/{j}/mu.npy", "cum": f"latents/{j}/cum.npy",
                        "sigma": float(latent["sigma"]),
                        **{k: latent[k] for k in ("scale", "mean", "sd") if k in latent}})
    within = []
    for j, entry in enumerate(getattr(model, "within_", None) or [None] * len(tables)):
        if entry is None:
            within.append(None)
            continue
        names = {}
        for key in ("parents", "beta", "centre"):
            names[key] = f"within/{j}/{key}.npy"
            arrays[names[key]] = np.ascontiguousarray(entry[key])
        within.append({**names, "sigma": float(entry["sigma"])})
    blobs = {name: _npy_bytes(value) for name, value in arrays.items()}
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "max_parents": model.max_parents,
        "n_training_rows": model.n_training_rows_,
        "schema": model.schema_.to_dict(),
        "encodings": encodings,
        "parents": [list(p) for p in model.parents_],
        "kinds": list(model.kinds_),
        "tables": tables,
        "latents": latents,
        "within": within,
        "relations": getattr(model, "relations_", None) or [],
        "checksums": {name: hashlib.sha256(blob).hexdigest() for name, blob in blobs.items()},
        "extra": extra or {},
    }
    if extra_names:
        manifest["extra_arrays"] = extra_names
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path) as fh:
        with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            body = json.dumps(manifest, sort_keys=True, indent=1).encode()
            zf.writestr(_entry(MANIFEST), body)
            zf.writestr(_entry(MANIFEST_DIGEST), hashlib.sha256(body).hexdigest())
            for name in sorted(blobs):
                zf.writestr(_entry(name, stored=name.startswith(STORED_PREFIXES)), blobs[name])
    return path


def _entry(name: str, stored: bool = False) -> zipfile.ZipInfo:
    """A zip entry with a fixed time stamp: the same model saves to the same bytes (a
    cluster fit is checked against a one-process fit by comparing files)."""
    info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
    info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    info.external_attr = 0o600 << 16              # as writestr(name) sets it
    return info


def load_model(path) -> tuple[BayesianNetworkModel, dict]:
    """The model and the manifest's ``extra`` dict."""
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as zf:
            body = zf.read(MANIFEST)
            if hashlib.sha256(body).hexdigest() != zf.read(MANIFEST_DIGEST).decode().strip():
                raise _invalid(path, "its manifest was altered after saving")
            manifest = json.loads(body)
            _check_manifest(manifest, path)
            arrays = {}
            for name, digest in manifest["checksums"].items():
                blob = zf.read(name)
                if hashlib.sha256(blob).hexdigest() != digest:
                    raise _invalid(path, f"array {name} does not match its checksum")
                arrays[name] = np.load(io.BytesIO(blob), allow_pickle=False)
    except SimioError:
        raise
    except FileNotFoundError:
        raise SimioError("simio_invalid_model_file", f"{path} does not exist") from None
    # A damaged zip can raise any of these from the zip, zlib or numpy layers.
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, EOFError, TypeError,
            AttributeError, RuntimeError, zlib.error) as exc:
        raise _invalid(path, f"it is not a readable simio model ({exc})") from None
    try:
        extra = dict(manifest.get("extra", {}))
        if manifest.get("extra_arrays"):
            extra["arrays"] = {key: arrays[name] for key, name in manifest["extra_arrays"].items()}
        return _rebuild(manifest, arrays), extra
    except (KeyError, ValueError, TypeError, IndexError, AttributeError) as exc:
        raise _invalid(path, f"its contents are inconsistent ({exc})") from None


def _rebuild(manifest, arrays) -> BayesianNetworkModel:
    model = BayesianNetworkModel(max_parents=int(manifest["max_parents"]))
    model.schema_ = Schema.from_dict(manifest["schema"])
    model.encodings_ = []
    for entry in manifest["encodings"]:
        fields = {k: v for k, v in entry.items() if k != "arrays"}
        fields.update({k: arrays[name] for k, name in entry["arrays"].items()})
        model.encodings_.append(NodeEncoding(**fields))
    model.parents_ = [tuple(int(p) for p in ps) for ps in manifest["parents"]]
    model.kinds_ = [str(k) for k in manifest["kinds"]]
    if any(k not in (PROBIT, TABLE) for k in model.kinds_):
        raise ValueError("unknown table kind")
    model.tables_ = [arrays[name] for name in manifest["tables"]]
    model.latents_ = [None if entry is None else
                      {"mu": arrays[entry["mu"]], "cum": arrays[entry["cum"]],
                       "sigma": float(entry["sigma"]),
                       **({"scale": "linear", "mean": float(entry["mean"]),
                           "sd": float(entry["sd"])} if entry.get("scale") == "linear" else {})}
                      for entry in manifest["latents"]]
    model.within_ = [None if entry is None else
                     {"parents": arrays[entry["parents"]].astype(np.int64),
                      "beta": arrays[entry["beta"]], "centre": arrays[entry["centre"]],
                      "sigma": float(entry["sigma"])}
                     for entry in manifest.get("within") or [None] * len(model.tables_)]
    for enc in model.encodings_:
        if enc.kind == "numeric" and enc.bin_cum is None:
            enc.bin_cum = _bin_cum_from_scores(enc.bin_score)   # a version 1 file
    model.relations_ = [dict(r) for r in manifest.get("relations") or []]
    if any(r.get("kind") not in RELATION_KINDS for r in model.relations_):
        raise ValueError("unknown relation kind")
    model.n_training_rows_ = int(manifest["n_training_rows"])
    if not (len(model.encodings_) == len(model.schema_) == len(model.tables_)
            == len(model.parents_) == len(model.kinds_) == len(model.latents_)
            == len(model.within_)):
        raise ValueError("schema, encodings, tables and structure disagree in length")
    for j, (enc, table) in enumerate(zip(model.encodings_, model.tables_)):
        if table.ndim != 2 or table.shape[1] != enc.n_states or model._table_size(
                j, model.parents_[j], model.kinds_[j]) != table.size:
            raise ValueError(f"table {j} has the wrong shape")
        weights = enc.weekday_weights
        if weights is not None and (len(weights) != 7 or min(weights) < 0
                                    or not sum(weights) > 0):
            raise ValueError(f"weekday weights of node {j} are not 7 shares")
        latent = model.latents_[j]
        if latent is not None and (latent["mu"].shape != (table.shape[0],) or
                                   latent["cum"].shape != (enc.n_bins + 1,)):
            raise ValueError(f"latent model {j} has the wrong shape")
        within = model.within_[j]
        if within is not None and (within["centre"].shape != (table.shape[0],)
                                   or within["beta"].shape != within["parents"].shape
                                   or not set(within["parents"].tolist())
                                   <= set(model.parents_[j])):
            raise ValueError(f"within-bin model {j} does not match its node")
    model.kernel_tables  # builds and validates the structure (raises on a cycle)
    return model


def _check_manifest(manifest, path):
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise _invalid(path, "it is not a simio model file")
    if manifest.get("format_version") not in READABLE_VERSIONS:
        raise _invalid(path, f"it has format version {manifest.get('format_version')!r}; "
                             f"this simio reads versions "
                             f"{', '.join(map(str, READABLE_VERSIONS))}: retrain the model "
                             "with this simio")


def _bin_cum_from_scores(bin_score: np.ndarray) -> np.ndarray:
    """Cumulative bin shares from the bins' mid-share normal scores (version 1 files kept
    only those): mid_b = cum_b + share_b / 2, so cum_{b+1} = 2 mid_b - cum_b."""
    from engine.normal import ndtr       # loading is on the sampling path: no scipy

    cum = [0.0]
    for mid in ndtr(bin_score):
        cum.append(min(max(2.0 * mid - cum[-1], cum[-1]), 1.0))
    cum[-1] = 1.0
    return np.array(cum)


def _invalid(path, why) -> SimioError:
    return SimioError("simio_invalid_model_file", f"{Path(path).name}: {why}")


def _npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()
