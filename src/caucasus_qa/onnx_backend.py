"""Optional embedding backend: the same MiniLM weights run by ONNX Runtime (fp32 or dynamic int8).

Selected with ``CAUCASUS_QA_EMBED__BACKEND=onnx`` or ``onnx-int8`` (default ``torch``). The ONNX file is
exported LOCALLY from the packaged weights on first use (never at import time, never downloaded) into
``<store_dir>/onnx/<model fingerprint>/`` and reused afterwards. Needs ``onnx`` and ``onnxruntime``
(``pip install 'caucasus-qa[onnx]'``); Optimum is not used (its ONNX exporter pins an older
transformers).

:class:`OnnxEncoder` is an :class:`~caucasus_qa.embedder.Embedder`, as the torch model is: ``encode``
(length sorted batches, mean pooling over the attention mask, L2 normalisation), ``encode_tokens`` and
``token_offsets`` (for the sentence vectors pooled at ingest), ``max_seq_length`` and
``get_embedding_dimension``. Vectors differ slightly from torch's (int8: noticeably), so the store
records the backend and refuses a mismatch (see :mod:`caucasus_qa.store`).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .errors import StoreError

BACKENDS = ("torch", "onnx", "onnx-int8")
OPSET = 17


def _fingerprint(model_path: Path) -> str:
    h = hashlib.sha256()
    for name in ("config.json", "model.safetensors", "tokenizer.json"):
        p = model_path / name
        if p.is_file():
            st = p.stat()
            h.update(f"{name}:{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()[:16]


def export(model_path: Path, out_dir: Path, quantize: bool) -> Path:
    """Export (once) ``model_path``'s transformer to ONNX under ``out_dir``; returns the .onnx file."""
    out_dir.mkdir(parents=True, exist_ok=True)
    fp32 = out_dir / "model.onnx"
    target = out_dir / ("model_qint8_per_channel.onnx" if quantize else "model.onnx")
    if target.is_file():
        return target
    if not fp32.is_file():
        import torch
        from transformers import AutoModel

        bert = AutoModel.from_pretrained(str(model_path), local_files_only=True)
        bert.eval()

        class _Hidden(torch.nn.Module):  # keyword arguments: positional order differs across versions
            def __init__(self) -> None:
                super().__init__()
                self.bert = bert

            def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
                return self.bert(
                    input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
                ).last_hidden_state

        model = _Hidden()
        names = ["input_ids", "attention_mask", "token_type_ids"]
        dummy = tuple(torch.ones((2, 16), dtype=torch.long) for _ in names)
        axes = {n: {0: "batch", 1: "sequence"} for n in names}
        axes["last_hidden_state"] = {0: "batch", 1: "sequence"}
        fd, tmp = tempfile.mkstemp(dir=out_dir, suffix=".onnx.tmp")
        os.close(fd)
        try:
            with torch.no_grad(), warnings.catch_warnings():
                warnings.simplefilter("ignore")  # tracer warnings about shapes: expected, not actionable
                torch.onnx.export(
                    model,
                    dummy,
                    tmp,
                    input_names=names,
                    output_names=["last_hidden_state"],
                    dynamic_axes=axes,
                    opset_version=OPSET,
                    dynamo=False,
                )
            os.replace(tmp, fp32)
        finally:
            Path(tmp).unlink(missing_ok=True)
    if quantize:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        fd, tmp = tempfile.mkstemp(dir=out_dir, suffix=".onnx.tmp")
        os.close(fd)
        try:
            quantize_dynamic(str(fp32), tmp, weight_type=QuantType.QInt8, per_channel=True)
            os.replace(tmp, target)
        finally:
            Path(tmp).unlink(missing_ok=True)
    return target


class OnnxEncoder:
    """:class:`~caucasus_qa.embedder.Embedder` over an ONNX Runtime session (CPU, or CUDA when available)."""

    def __init__(self, model_path: Path, cache_dir: Path, quantize: bool) -> None:
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer
        except ImportError as err:
            raise StoreError(
                "embed_backend: onnx needs onnxruntime and onnx (pip install 'caucasus-qa[onnx]')"
            ) from err
        out_dir = cache_dir / "onnx" / _fingerprint(model_path)
        try:
            onnx_file = export(model_path, out_dir, quantize)
        except ImportError as err:
            raise StoreError("embed_backend: exporting to ONNX needs the onnx package") from err
        st_config = json.loads((model_path / "sentence_bert_config.json").read_text())
        self.max_seq_length = int(st_config.get("max_seq_length", 256))
        self._dim = int(json.loads((model_path / "config.json").read_text())["hidden_size"])
        self.tokenizer = Tokenizer.from_file(str(model_path / "tokenizer.json"))
        self.tokenizer.enable_truncation(self.max_seq_length)
        self.tokenizer.no_padding()
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        providers = [
            p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in ort.get_available_providers()
        ]
        self.session = ort.InferenceSession(str(onnx_file), options, providers=providers)
        self._inputs = {i.name for i in self.session.get_inputs()}
        self.onnx_file = onnx_file

    def get_embedding_dimension(self) -> int:
        return self._dim

    def encode(
        self,
        sentences: Sequence[str] | str,
        batch_size: int = 32,
        normalize_embeddings: bool = True,
        convert_to_numpy: bool = True,
        show_progress_bar: bool = False,
        **_: Any,
    ) -> np.ndarray:
        texts = [sentences] if isinstance(sentences, str) else list(sentences)
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for idx, hidden, mask in self._batches(texts, batch_size):
            m = mask[:, :, None].astype(np.float32)
            pooled = (hidden * m).sum(axis=1) / np.clip(m.sum(axis=1), 1e-9, None)
            if normalize_embeddings:
                pooled /= np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
            out[idx] = pooled
        return out

    def encode_tokens(
        self, texts: Sequence[str], batch_size: int = 32
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per text: the normalised pooled vector and the token embeddings (no padding), in order."""
        out: list[tuple[np.ndarray, np.ndarray]] = [(np.zeros(0), np.zeros(0))] * len(texts)
        for idx, hidden, mask in self._batches(list(texts), batch_size):
            for row, i in enumerate(idx):
                tokens = hidden[row, : int(mask[row].sum())].astype(np.float32)
                vec = tokens.mean(axis=0)
                out[i] = (vec / max(float(np.linalg.norm(vec)), 1e-12), tokens)
        return out

    def token_offsets(self, texts: Sequence[str]) -> list[list[tuple[int, int]]]:
        """Character span of every word piece, as :meth:`encode` tokenizes (special tokens: (0, 0))."""
        return [list(e.offsets) for e in self.tokenizer.encode_batch(list(texts))]

    def _batches(
        self, texts: list[str], batch_size: int
    ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """(text indices, last hidden states, attention mask) per length-sorted batch."""
        if not texts:
            return
        encodings = self.tokenizer.encode_batch(texts)
        order = np.argsort([-len(e.ids) for e in encodings], kind="stable")
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            width = max(len(encodings[i].ids) for i in idx)
            ids = np.zeros((len(idx), width), dtype=np.int64)
            mask = np.zeros((len(idx), width), dtype=np.int64)
            for row, i in enumerate(idx):
                e = encodings[i]
                ids[row, : len(e.ids)] = e.ids
                mask[row, : len(e.ids)] = 1
            feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            hidden = self.session.run(None, {k: v for k, v in feeds.items() if k in self._inputs})[0]
            yield idx, hidden, mask
