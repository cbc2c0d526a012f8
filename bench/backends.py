"""PyTorch against ONNX Runtime for the same model: label agreement and accuracy on every test
split of the datasets directory, and the raw model loop's speed with each, same run.

    python -m bench.backends [--model DIR] [--json]

The model is the warehouse's current one unless --model says otherwise; a split is a
dataset's test.parquet (validation.parquet where there is no test split).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq
import torch

from bench.measure import report
from sentiment.settings import Settings
from sentiment.warehouse import Warehouse
from sentiment_model import onnx_export
from sentiment_model.predict import Predictor


def splits(data_dir: Path) -> list[Path]:
    out = []
    for folder in sorted(p for p in data_dir.iterdir() if p.is_dir()):
        split = folder / "test.parquet" if (folder / "test.parquet").exists() else folder / "validation.parquet"
        if split.exists() and "label" in pq.read_schema(split).names:
            out.append(split)
    return out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    model = args.model or Warehouse(settings.home).current_model()
    data_dir = args.data_dir or settings.data_dir
    with tempfile.TemporaryDirectory(prefix="bench-backends-") as tmp:
        torch_run = Predictor.load(model)
        onnx_run = Predictor.load(model, onnx_path=onnx_export.exported(model, Path(tmp)))
        labels = torch_run.bundle.labels
        result: dict = {"model": str(model), "torch_threads": torch.get_num_threads(), "splits": {}}
        seconds = {"torch": 0.0, "onnx": 0.0}
        texts_total = 0
        for split in splits(data_dir):
            table = pq.read_table(split, columns=["text", "label"]).to_pylist()
            rows = [r for r in table if r["text"] and r["label"] in labels]
            if not rows:
                continue
            texts = [r["text"] for r in rows]
            gold = torch.tensor([labels.index(r["label"]) for r in rows])
            predicted = {}
            for name, run in (("torch", torch_run), ("onnx", onnx_run)):
                started = time.perf_counter()
                predicted[name] = run.logits(texts).argmax(dim=1)
                seconds[name] += time.perf_counter() - started
            texts_total += len(texts)
            result["splits"][f"{split.parent.name}/{split.stem}"] = {
                "n": len(texts),
                "agreement": round(float((predicted["torch"] == predicted["onnx"]).float().mean()), 5),
                "accuracy_torch": round(float((predicted["torch"] == gold).float().mean()), 4),
                "accuracy_onnx": round(float((predicted["onnx"] == gold).float().mean()), 4),
            }
    result["min_agreement"] = min(s["agreement"] for s in result["splits"].values())
    result["raw_docs_per_s_torch"] = round(texts_total / seconds["torch"], 1)
    result["raw_docs_per_s_onnx"] = round(texts_total / seconds["onnx"], 1)
    result["onnx_speedup"] = round(seconds["torch"] / seconds["onnx"], 2)
    return report("backends", result, args.json)


if __name__ == "__main__":
    main()
