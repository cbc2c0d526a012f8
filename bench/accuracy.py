"""Accuracy: our LSTM against in-run baselines and published anchors, on every labelled dataset.

    python -m bench.accuracy [--dataset sst2 --dataset imdb ... --dataset general] [--epochs N] [--quick] [--json]

For each task (bench/tasks.py): trains the LSTM with `sentiment train`'s defaults (the
recipe chosen automatically, plus the task's few overrides), trains TF-IDF + logistic
regression on the same rows (C picked on the same selection split), runs VADER, and
judges all three on the task's evaluation split. The `general` group (bench/general_mix.py)
trains the one three-class general model and judges it on every task's evaluation split.
Prints the tables and writes bench/results/accuracy.json and accuracy.md (train time,
device and tokens/s included).
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from bench.general import VARIANTS as GENERAL_VARIANTS
from bench.general import ablation_markdown, run_general
from bench.general import markdown as general_markdown
from bench.measure import RESULTS
from bench.peers import tfidf_lr, vader
from bench.tasks import HELD_OUT, TASKS, Task
from sentiment.settings import Settings
from sentiment_model.corpus import resolve_embeddings
from sentiment_model.data import LabelledText, holdout, read_labelled
from sentiment_model.evaluate import evaluate
from sentiment_model.pretrain import resolve as resolve_pretrained
from sentiment_model.train import TrainConfig, train

TRAIN_KEYS = (
    "epochs",
    "batch_size",
    "lr",
    "max_tokens",
    "dropout",
    "class_weights",
    "embed_dim",
    "hidden_dim",
    "embeddings",
    "pretrained",
)
SELECT_SHARE = 0.25  # of a file that is both trained on and used for selection
GENERAL = "general"  # the general model's group (bench/general_mix.py)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--dataset",
        action="append",
        choices=[*sorted(TASKS), GENERAL],
        help="repeatable; default: every task, then the general model",
    )
    parser.add_argument(
        "--general-variant",
        action="append",
        choices=sorted(GENERAL_VARIANTS),
        default=None,
        help="with the general group: also train these balancing variants (ablations)",
    )
    parser.add_argument("--epochs", type=int, default=None, help="override the recipe's most epochs")
    parser.add_argument("--quick", action="store_true", help="500 training rows, 1 epoch: checks the set-up")
    parser.add_argument(
        "--embeddings",
        default="auto",
        help="auto (word vectors pretrained on the datasets directory, cached), none, or an .npz file",
    )
    parser.add_argument(
        "--pretrained",
        default="none",
        help="start every LSTM from a pretrained language model: "
        "none (default), auto (the cached one, built when missing) or a .pt file",
    )
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=RESULTS, help="where accuracy.json/.md go")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)-7s %(name)s: %(message)s", datefmt="%H:%M:%S"
    )
    settings = Settings.from_env()
    data_dir = args.data_dir or settings.data_dir
    overrides = {"epochs": 1, "max_train_samples": 500} if args.quick else {}
    if args.epochs:
        overrides["epochs"] = args.epochs
    started = time.perf_counter()
    vectors = resolve_embeddings(args.embeddings, data_dir, settings.embeddings_cache, TrainConfig.embed_dim)
    lm = resolve_pretrained(args.pretrained, data_dir, settings.lm_cache)
    pretraining = {
        "embeddings": str(vectors) if vectors else None,
        "language_model": str(lm) if lm else None,
        "seconds": round(time.perf_counter() - started, 1),
    }
    if lm:
        overrides["pretrained"] = lm
    rows, mixed = [], None
    for name in args.dataset or [*TASKS, GENERAL]:
        if name == GENERAL:
            mixed = run_general(data_dir, settings.general_cache, {"embeddings": vectors, **overrides})
            mixed["pretraining"] = pretraining
            print(general_markdown(mixed), flush=True)
            variants = {"default": mixed}
            for variant in args.general_variant or []:
                # a variant trained on another mix gets its own peers, trained on that mix in this run
                own_mix = GENERAL_VARIANTS[variant][0] != GENERAL_VARIANTS["default"][0]
                variants[variant] = run_general(
                    data_dir, settings.general_cache, {"embeddings": vectors, **overrides}, variant, peers=own_mix
                )
                if own_mix:
                    print(general_markdown(variants[variant]), flush=True)
                print(ablation_markdown(variants), flush=True)
            mixed["ablations"] = {k: v for k, v in variants.items() if k != "default"}
            continue
        rows.append(run_task(TASKS[name], data_dir, {"embeddings": vectors, **overrides}))
        rows[-1]["pretraining"] = pretraining
        print(format_row(rows[-1]), flush=True)
    result = {"tasks": rows, **({GENERAL: mixed} if mixed else {})}
    write(result, args.out)
    print(json.dumps(result) if args.json else markdown(rows))
    return result


def run_task(task: Task, data_dir: Path, overrides: dict) -> dict:
    """Train and judge the LSTM and the baselines on one task."""
    train_data, select_data = _splits(task, data_dir)
    judged = read_labelled(data_dir / task.judge)
    with tempfile.TemporaryDirectory(prefix=f"bench-{task.name}-") as tmp:
        work = Path(tmp)
        _write(work / "train.parquet", train_data)
        _write(work / "validation.parquet", select_data)
        cfg = TrainConfig(data=work, out=work / "model", **{**task.train_overrides, **overrides})
        started = time.perf_counter()
        model = train(cfg)
        seconds = time.perf_counter() - started
        meta = json.loads((model / "model.json").read_text())
        ours = evaluate(model, data_dir / task.judge)
    labels = meta["labels"]
    history = meta["history"]
    return {
        "task": task.name,
        "judged_on": task.judge,
        "metrics": list(task.metrics),
        "targets": task.targets,
        "train_rows": len(train_data.texts),
        "selection": f"{task.select} ({len(select_data.texts)} rows)",
        "lstm": {k: ours[k] for k in ("accuracy", "macro_f1", "macro_recall", "n", "ece", "ece_uncalibrated")},
        "tfidf_lr": tfidf_lr(train_data, select_data, judged, labels),
        "vader": vader(judged, labels, task.binary_vader),
        "anchors": task.anchors,
        "recipe": meta["train_config"]["recipe"],
        "train_config": {k: meta["train_config"][k] for k in TRAIN_KEYS},
        "epochs_run": len(history),
        "best_epoch": meta["best_epoch"],
        "train_seconds": round(seconds, 1),
        "device": meta["device"],
        "tokens_per_s": round(sum(h["tokens_per_s"] for h in history) / len(history)),
    }


def _splits(task: Task, data_dir: Path) -> tuple[LabelledText, LabelledText]:
    parts = [_relabelled(read_labelled(data_dir / path), task.relabel.get(path)) for path in task.train]
    if task.select == HELD_OUT:
        combined = _concat(parts)
        return holdout(combined, 0.1, seed=13)
    if task.select in task.train:
        index = task.train.index(task.select)
        parts[index], select = holdout(parts[index], SELECT_SHARE, seed=13)
        return _concat(parts), select
    return _concat(parts), read_labelled(data_dir / task.select)


def _relabelled(data: LabelledText, mapping: dict[str, str] | None) -> LabelledText:
    if not mapping:
        return data
    rows = [(t, mapping[label]) for t, label in zip(data.texts, data.labels, strict=True) if label in mapping]
    return LabelledText([t for t, _ in rows], [label for _, label in rows])


def _concat(parts: list[LabelledText]) -> LabelledText:
    return LabelledText([t for p in parts for t in p.texts], [label for p in parts for label in p.labels])


def _write(path: Path, data: LabelledText) -> None:
    pq.write_table(pa.table({"text": data.texts, "label": data.labels}), path)


def _fmt(value: dict | None, metric: str) -> str:
    return "n/a" if value is None else f"{value[metric]:.3f}"


def format_row(row: dict) -> str:
    parts = [f"{row['task']}:"]
    for m in row["metrics"]:
        parts.append(
            f"{m} lstm {_fmt(row['lstm'], m)} (target {row['targets'][m]:.3f}), "
            f"tfidf+lr {_fmt(row['tfidf_lr'], m)}, vader {_fmt(row['vader'], m)}"
        )
    parts.append(f"[{row['train_seconds']:.0f} s on {row['device']}, {row['epochs_run']} epochs]")
    return " ".join(parts)


def markdown(rows: list[dict]) -> str:
    lines = [
        "| task (judged on) | metric | LSTM (ours) | target | met | TF-IDF + LR | VADER | published anchors | "
        "train time | epochs | tokens/s |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        anchors = "; ".join(f"{k} {v:.3f}" for k, v in row["anchors"].items()) or "-"
        for i, m in enumerate(row["metrics"]):
            ours, target = row["lstm"][m], row["targets"][m]
            lines.append(
                f"| {row['task'] if i == 0 else ''} ({row['judged_on'].split('/')[-1].split('.')[0]}) | {m} | "
                f"**{ours:.3f}** | {target:.3f} | {'yes' if ours >= target else f'no ({ours - target:+.3f})'} | "
                f"{_fmt(row['tfidf_lr'], m)} | {_fmt(row['vader'], m)} | {anchors if i == 0 else ''} | "
                f"{row['train_seconds']:.0f} s {row['device']} | {row['epochs_run']} (best {row['best_epoch']}) | "
                f"{row['tokens_per_s']} |"
            )
    return "\n".join(lines)


def write(result: dict, out: Path) -> None:
    """Write the results, keeping earlier rows of tasks this run did not measure."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / "accuracy.json"
    earlier = json.loads(path.read_text()) if path.is_file() else {}
    rows = {row["task"]: row for row in earlier.get("tasks", [])}
    rows.update({row["task"]: row for row in result["tasks"]})
    ordered = [rows[name] for name in TASKS if name in rows]
    mixed = result.get(GENERAL) or earlier.get(GENERAL)
    path.write_text(json.dumps({"tasks": ordered, **({GENERAL: mixed} if mixed else {})}, indent=2))
    text = "## One model per task\n\n" + markdown(ordered) + "\n" if ordered else ""
    if mixed:
        text += ("\n" if text else "") + "## The general model\n\n" + general_markdown(mixed) + "\n"
        if mixed.get("ablations"):
            text += "\n### Balancing, measured\n\n" + ablation_markdown({"default": mixed, **mixed["ablations"]}) + "\n"
            for name, variant in mixed["ablations"].items():
                if variant["rows"] and variant["rows"][0].get("tfidf_lr"):  # trained on its own mix, with peers
                    text += f"\n### Variant {name}, with peers trained on its mix\n\n{general_markdown(variant)}\n"
    (out / "accuracy.md").write_text(text)


if __name__ == "__main__":
    main()
