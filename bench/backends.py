"""PyTorch against ONNX Runtime and the folded model for the same model: labels that differ,
the largest probability difference and accuracy on every test split of the datasets directory,
and the raw model loop's speed with each, same run (one process, one thread each: the job's
workers run one thread each; `python -m bench.score` is the speed benchmark).

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
        torch.set_num_threads(1)
        runs = {
            "torch": Predictor.load(model),
            "onnx": Predictor.load(model, onnx_path=onnx_export.exported(model, Path(tmp)), threads=1),
            "folded": Predictor.load(model, folded_cache=Path(tmp)),
        }
        labels = runs["torch"].bundle.labels
        result: dict = {"model": str(model), "torch_threads": torch.get_num_threads(), "splits": {}}
        seconds = dict.fromkeys(runs, 0.0)
        texts_total = 0
        for split in splits(data_dir):
            table = pq.read_table(split, columns=["text", "label"]).to_pylist()
            rows = [r for r in table if r["text"] and r["label"] in labels]
            if not rows:
                continue
            texts = [r["text"] for r in rows]
            gold = torch.tensor([labels.index(r["label"]) for r in rows])
            probs = {}
            for name, run in runs.items():
                started = time.perf_counter()
                probs[name] = run.probabilities(texts)
                seconds[name] += time.perf_counter() - started
            texts_total += len(texts)
            reference = probs["torch"].argmax(dim=1)
            entry = {"n": len(texts), "accuracy_torch": round(float((reference == gold).float().mean()), 4)}
            for name in ("onnx", "folded"):
                entry[f"labels_differing_{name}"] = int((probs[name].argmax(dim=1) != reference).sum())
                entry[f"max_prob_diff_{name}"] = float((probs[name] - probs["torch"]).abs().max())
            result["splits"][f"{split.parent.name}/{split.stem}"] = entry
    result["texts"] = texts_total
    for name in ("onnx", "folded"):
        result[f"labels_differing_{name}"] = sum(s[f"labels_differing_{name}"] for s in result["splits"].values())
        result[f"max_prob_diff_{name}"] = max(s[f"max_prob_diff_{name}"] for s in result["splits"].values())
    for name, spent in seconds.items():
        result[f"raw_docs_per_s_{name}"] = round(texts_total / spent, 1)
    return report("backends", result, args.json)


if __name__ == "__main__":
    main()
