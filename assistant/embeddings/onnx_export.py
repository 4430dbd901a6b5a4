"""The question encoder's ONNX export: made once with torch, kept in the cache folder.

``<cache_dir>/onnx/<fingerprint>/`` holds ``model.onnx`` (the sentence-transformers pipeline:
transformer, mean pooling over the attention mask, L2 normalisation, traced in one graph),
``tokenizer.json`` (the model's fast tokenizer, for the ``tokenizers`` library) and
``meta.json``, written last. The fingerprint is a sha256 of the model folder's files, so a
changed model gets a new export. Hashing 90 MB at every start would cost more than it saves,
so ``pointers/`` maps the model folder's path, file sizes and mtimes to that fingerprint; the
files are hashed only when the pointer is missing (first run, reinstalled model).

Writes are atomic: an export is built in a temporary folder next to its final place and
renamed onto it; a second process exporting at the same time loses the rename and discards
its copy, so readers only ever see complete folders. An export is checked against torch on
probe texts before it is kept.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

EXPORT_FORMAT = 1  # bump when the exported graph changes: old exports are then ignored
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
_LONG = "A new rail corridor links the two port cities; their trade grew 20% a year. "
_PROBES = ("What challenges does the project face?", "Harbour", _LONG * 16)  # 16: truncated
_MIN_COSINE = 1 - 1e-5  # probes must agree this well with torch (tests check 1e-4 on a corpus)


def onnx_root(cache_dir: Path) -> Path:
    return cache_dir / "onnx"


def find_export(model_path: Path, cache_dir: Path) -> Path | None:
    """The folder of a complete export of the model at ``model_path``, or None."""
    pointer = _pointer_file(model_path, cache_dir)
    fingerprint = _read_pointer(pointer)
    if fingerprint is None:
        fingerprint = model_fingerprint(model_path)
    folder = onnx_root(cache_dir) / fingerprint
    if not (folder / "meta.json").is_file():
        return None
    _write_pointer(pointer, fingerprint)
    return folder


def model_fingerprint(model_path: Path) -> str:
    """sha256 over the model folder's file names and contents, and the export format."""
    digest = hashlib.sha256(f"onnx-export-{EXPORT_FORMAT}".encode())
    for path in _model_files(model_path):
        digest.update(path.relative_to(model_path).as_posix().encode() + b"\x00")
        with path.open("rb") as f:
            while block := f.read(1 << 20):
                digest.update(block)
    return digest.hexdigest()[:32]


def export(model: Any, model_path: Path, cache_dir: Path, name: str) -> Path:
    """Export a loaded ``SentenceTransformer`` to ONNX under ``cache_dir``; its folder.

    Needs torch (already loaded with ``model``); raises on any failure, leaving nothing behind.
    """
    fingerprint = model_fingerprint(model_path)
    root = onnx_root(cache_dir)
    final = root / fingerprint
    if (final / "meta.json").is_file():
        _write_pointer(_pointer_file(model_path, cache_dir), fingerprint)
        return final
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{fingerprint}-", dir=root))
    tmp.chmod(0o755)  # mkdtemp makes it private; the cache may be shared
    try:
        _trace(model, tmp / "model.onnx")
        tokenizer = model.tokenizer.backend_tokenizer
        tokenizer.save(str(tmp / "tokenizer.json"))
        meta = {
            "model": name,
            "dimension": _dimension(model),
            "max_seq_length": int(model.max_seq_length),
            "format": EXPORT_FORMAT,
            "fingerprint": fingerprint,
        }
        (tmp / "meta.json").write_text(json.dumps(meta, indent=1))
        _check_against_torch(model, tmp)
        try:
            tmp.rename(final)
        except OSError:
            if not (final / "meta.json").is_file():
                raise
            # another process renamed its complete export first: keep that one
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    _write_pointer(_pointer_file(model_path, cache_dir), fingerprint)
    return final


def _dimension(model: Any) -> int:
    get = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    return int(get() or 384)


def _trace(model: Any, target: Path) -> None:
    """Trace the whole sentence-transformers pipeline (pooling and normalisation included)."""
    import torch

    class _Pipeline(torch.nn.Module):
        def __init__(self, st: Any) -> None:
            super().__init__()
            self.st = st

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            features = {"input_ids": input_ids, "attention_mask": attention_mask}
            features["token_type_ids"] = token_type_ids
            return self.st(features)["sentence_embedding"]

    sample = model.tokenizer(list(_PROBES[:2]), padding=True, return_tensors="pt")
    axes = {n: {0: "batch", 1: "tokens"} for n in _INPUTS} | {"sentence_embedding": {0: "batch"}}
    pipeline = _Pipeline(model).eval()
    # SEE: https://docs.pytorch.org/docs/stable/onnx_torchscript.html: the TorchScript exporter
    # (dynamo=False) needs neither onnxscript nor a torch.export-able model; a tracer warning
    # per static shape check in transformers is expected (the checks hold for any input).
    with torch.no_grad(), _quiet_warnings():
        torch.onnx.export(
            pipeline,
            tuple(sample[n] for n in _INPUTS),
            str(target),
            dynamo=False,
            input_names=list(_INPUTS),
            output_names=["sentence_embedding"],
            dynamic_axes=axes,
            opset_version=17,
        )


def _check_against_torch(model: Any, folder: Path) -> None:
    from .onnx import OnnxEmbedder

    expected = model.encode(list(_PROBES), normalize_embeddings=True, convert_to_numpy=True)
    got = OnnxEmbedder(folder).embed(list(_PROBES))
    cosine = np.sum(np.asarray(expected, dtype=np.float32) * got, axis=1)
    if float(cosine.min()) < _MIN_COSINE:
        raise ValueError(f"ONNX export disagrees with torch (cosine {float(cosine.min()):.6f})")


@contextlib.contextmanager
def _quiet_warnings() -> Any:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _model_files(model_path: Path) -> list[Path]:
    return sorted(
        p
        for p in model_path.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(model_path).parts)
    )


def _pointer_file(model_path: Path, cache_dir: Path) -> Path:
    """Named by the model folder's path and its files' sizes and mtimes: a stat per file."""
    digest = hashlib.sha256(str(model_path.resolve()).encode())
    for path in _model_files(model_path):
        st = path.stat()
        digest.update(
            f"\x00{path.relative_to(model_path)}\x00{st.st_size}:{st.st_mtime_ns}".encode()
        )
    return onnx_root(cache_dir) / "pointers" / f"{digest.hexdigest()[:32]}.json"


def _read_pointer(pointer: Path) -> str | None:
    try:
        fingerprint = json.loads(pointer.read_text())["fingerprint"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return fingerprint if isinstance(fingerprint, str) and fingerprint.isalnum() else None


def _write_pointer(pointer: Path, fingerprint: str) -> None:
    """Best effort (a read-only cache only means hashing the model again next time)."""
    if _read_pointer(pointer) == fingerprint:
        return
    try:
        pointer.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".pointer-", dir=pointer.parent)
    except OSError:
        return
    try:
        with os.fdopen(fd, "w") as f:
            json.dump({"fingerprint": fingerprint}, f)
        os.chmod(tmp, 0o644)
        os.replace(tmp, pointer)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
