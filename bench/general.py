"""The general model judged on every dataset's evaluation split, beside its peers, in one run.

    python -m bench.accuracy --dataset general [--general-variant sst2-uncapped ...]

Trains the three-class general model exactly as `sentiment train --dataset general` does
(the cached mix of every labelled set, word vectors), trains TF-IDF + logistic regression
on the same mix (C picked on the same selection rows), and judges both, and VADER, on
each evaluation split. Binary data is decided between negative and positive for all three
(the model and TF-IDF by their two classes' scores, VADER by the compound score's sign);
the emotion test split is mapped to polarity first.
"""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from bench.peers import fit_tfidf_lr, vader
from sentiment_model import general_mix
from sentiment_model.data import LabelledText, read_labelled
from sentiment_model.evaluate import evaluate, metrics
from sentiment_model.train import TrainConfig, train


@dataclass(frozen=True)
class Judged:
    name: str
    path: str  # relative to the datasets directory; one of general_mix.JUDGED_SPLITS
    metrics: tuple[str, ...]  # the first is the headline
    targets: dict[str, float] = field(default_factory=dict)  # beyond "ahead of both peers"
    emotions: bool = False  # map emotions to polarity first


JUDGED = (
    Judged("sst2", "sst2/validation.parquet", ("accuracy",), {"accuracy": 0.86}),
    Judged("imdb", "imdb/test.parquet", ("accuracy",)),
    Judged("airline_tweets", "airline_tweets/test.parquet", ("accuracy", "macro_f1"), {"accuracy": 0.80}),
    Judged("tweeteval_sentiment", "tweeteval_sentiment/test.parquet", ("macro_recall",), {"macro_recall": 0.62}),
    Judged(
        "financial_phrasebank_allagree", "financial_phrasebank_allagree/test.parquet", ("accuracy",), {"accuracy": 0.90}
    ),
    Judged("nlp_text_emotion", "nlp_text_emotion/test.parquet", ("macro_f1",), emotions=True),
)


# Tweets in seven more languages (UMSAB validation), judged one language at a time: macro-F1, the
# benchmark's metric. Targets: fastText's published per-language test scores (XLM-T's README).
MULTILINGUAL = "umsab_multilingual/validation.parquet"
FASTTEXT_MACRO_F1 = {"ar": 0.460, "fr": 0.548, "de": 0.596, "hi": 0.371, "it": 0.547, "pt": 0.551, "es": 0.501}


def language_rows(data_dir: Path) -> dict[str, LabelledText]:
    """The multilingual judged split by language (empty when the datasets directory lacks it)."""
    import pyarrow.parquet as pq

    path = data_dir / MULTILINGUAL
    if not path.is_file():
        return {}
    table = pq.read_table(path, columns=["text", "label", "lang"]).to_pydict()
    by_lang: dict[str, LabelledText] = {}
    for lang in sorted(set(table["lang"])):
        rows = [i for i, code in enumerate(table["lang"]) if code == lang]
        by_lang[lang] = LabelledText([table["text"][i] for i in rows], [str(table["label"][i]) for i in rows])
    return by_lang


def _without(*sources: str) -> general_mix.MixConfig:
    parts = tuple(p for p in general_mix.DEFAULT_MIX.parts if p.source not in sources)
    return replace(general_mix.DEFAULT_MIX, parts=parts)


def _capped(*caps) -> general_mix.MixConfig:
    """The default mix with other caps: _capped("sst2", 30000, "imdb", None)."""
    new = dict(zip(caps[::2], caps[1::2], strict=True))
    parts = tuple(replace(p, cap=new[p.source]) if p.source in new else p for p in general_mix.DEFAULT_MIX.parts)
    return replace(general_mix.DEFAULT_MIX, parts=parts)


# The balancing choices measured against the default (docs/model.md, "The general model"): name -> (mix, train settings)
_DEFAULT = general_mix.DEFAULT_SETTINGS
VARIANTS: dict[str, tuple[general_mix.MixConfig, dict]] = {
    "default": general_mix.NAMED[general_mix.NAME],
    "single-softmax": (general_mix.DEFAULT_MIX, {**_DEFAULT, "source_labels": False}),  # binary rows as 3-way labels
    "sst2-uncapped": (_capped("sst2", None), _DEFAULT),  # all 67k SST-2 phrases
    "sst2-30k": (_capped("sst2", 30000), _DEFAULT),
    "no-binary": (_without("sst2", "imdb"), _DEFAULT),  # three-way sources only
    "english": general_mix.NAMED[general_mix.ENGLISH_NAME],  # without UMSAB's seven languages
    # words outside the vocabulary read by their pieces (sentiment_model.vocab); measured: not better
    "pieces": (general_mix.DEFAULT_MIX, {**_DEFAULT, "pieces": 20_000}),
    "word-dropout": (general_mix.DEFAULT_MIX, {**_DEFAULT, "word_dropout": 0.1}),  # measured: not better
}


def judged_rows(data_dir: Path, judged: Judged) -> LabelledText:
    rows = read_labelled(data_dir / judged.path)
    if judged.emotions:
        keep = [i for i, y in enumerate(rows.labels) if y in general_mix.EMOTION_POLARITY]
        rows = LabelledText([rows.texts[i] for i in keep], [general_mix.EMOTION_POLARITY[rows.labels[i]] for i in keep])
    return rows


def run_general(data_dir: Path, cache_dir: Path, overrides: dict, variant: str = "default", peers: bool = True) -> dict:
    """Train the general model and (with `peers`) its TF-IDF peer on the mix; judge them and VADER on every split."""
    mix_config, settings = VARIANTS[variant]
    mix = general_mix.cached(data_dir, cache_dir, mix_config)
    train_rows, select_rows = read_labelled(mix / "train.parquet"), read_labelled(mix / "validation.parquet")
    with tempfile.TemporaryDirectory(prefix="bench-general-") as tmp:
        started = time.perf_counter()
        model = train(TrainConfig(data=mix, out=Path(tmp) / "model", **{**settings, **overrides}))
        seconds = time.perf_counter() - started
        meta = json.loads((model / "model.json").read_text())
        started = time.perf_counter()
        peer = fit_tfidf_lr(train_rows, select_rows, meta["labels"], chars=True) if peers else None
        peer_seconds = time.perf_counter() - started
        rows = []
        for judged in JUDGED:
            if not (data_dir / judged.path).is_file():
                continue
            labelled = judged_rows(data_dir, judged)
            ours = evaluate(model, data_dir / judged.path, labelled=labelled)
            among = ours["decided_among"]
            rows.append(
                {
                    "task": judged.name,
                    "judged_on": judged.path,
                    "metrics": list(judged.metrics),
                    "targets": judged.targets,
                    "decided_among": among,
                    "lstm": {k: ours[k] for k in ("accuracy", "macro_f1", "macro_recall", "n", "ece")},
                    "tfidf_lr": metrics(labelled.labels, peer(labelled.texts, among), among) if peers else None,
                    "vader": vader(labelled, among, binary=True) if peers else None,
                }
            )
        for lang, labelled in language_rows(data_dir).items():
            ours = evaluate(model, data_dir / MULTILINGUAL, labelled=labelled)
            among = ours["decided_among"]
            rows.append(
                {
                    "task": f"umsab_{lang}",
                    "judged_on": f"{MULTILINGUAL} lang={lang}",
                    "lang": lang,
                    "metrics": ["macro_f1"],
                    "targets": {"macro_f1": FASTTEXT_MACRO_F1.get(lang, 0.0)},
                    "decided_among": among,
                    "lstm": {k: ours[k] for k in ("accuracy", "macro_f1", "macro_recall", "n", "ece")},
                    "tfidf_lr": metrics(labelled.labels, peer(labelled.texts, among), among) if peers else None,
                    "vader": vader(labelled, among, binary=False) if peers else None,
                }
            )
    history = meta["history"]
    return {
        "model": "general",
        "variant": variant,
        "mix": meta["data"].get("mix", {}),
        "selection": meta["metrics"]["validation"],
        "selection_by_source": meta["history"][meta["best_epoch"] - 1].get("sources", {}),
        "train_rows": meta["data"]["train_rows"],
        "selection_rows": meta["data"]["validation_rows"],
        "train_config": meta["train_config"],
        "epochs_run": len(history),
        "best_epoch": meta["best_epoch"],
        "train_seconds": round(seconds, 1),
        "tfidf_lr_seconds": round(peer_seconds, 1),
        "device": meta["device"],
        "tokens_per_s": round(sum(h["tokens_per_s"] for h in history) / len(history)),
        "rows": rows,
    }


def ahead(row: dict, metric: str) -> bool:
    """Ahead of both peers (VADER has no answer for none of these) and at or above any target."""
    ours = row["lstm"][metric]
    peers = [row[p][metric] for p in ("tfidf_lr", "vader") if row.get(p)]
    return all(ours > p for p in peers) and ours >= row["targets"].get(metric, 0.0)


def markdown(result: dict) -> str:
    lines = [
        f"General model: one three-class LSTM trained on {result['train_rows']:,} rows of the mix "
        f"({result['epochs_run']} epochs, best {result['best_epoch']}, {result['train_seconds']:.0f} s on "
        f"{result['device']}, {result['tokens_per_s']} tokens/s); TF-IDF (word 1-2-grams + character 2-5-grams) "
        f"+ LR trained on the same rows ({result['tfidf_lr_seconds']:.0f} s). "
        "Per language (umsab_multilingual validation, never trained or selected on), the target is "
        "fastText's published test macro-F1 for that language, and being ahead of both peers.",
        "",
        "| judged on | decided among | metric | general LSTM | TF-IDF word+char + LR (same mix) | VADER | target "
        "| met |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in result["rows"]:
        for m in row["metrics"]:
            target = row["targets"].get(m)
            lines.append(
                f"| {row['judged_on']} | {'/'.join(row['decided_among'])} | {m} | **{row['lstm'][m]:.3f}** | "
                f"{row['tfidf_lr'][m]:.3f} | {row['vader'][m]:.3f} | "
                f"{'ahead of both' + (f', >= {target:.2f}' if target else '')} | {'yes' if ahead(row, m) else 'no'} |"
            )
    return "\n".join(lines)


def ablation_markdown(results: dict[str, dict]) -> str:
    """One row per variant: the selection score it was chosen by, then each judged split's headline metric."""
    tasks = list(dict.fromkeys((r["task"], r["metrics"][0]) for result in results.values() for r in result["rows"]))
    head = [f"{task} {metric}" for task, metric in tasks]
    lines = [
        "| variant | train rows | selection (mean macro-F1 over sources) | " + " | ".join(head) + " | train time |",
        "|---|---|---|" + "---|" * len(head) + "---|",
    ]
    for name, result in results.items():
        scores = {r["task"]: r["lstm"][r["metrics"][0]] for r in result["rows"]}
        cells = [f"{scores[task]:.3f}" if task in scores else "-" for task, _ in tasks]
        lines.append(
            f"| {name} | {result['train_rows']:,} | {result['selection']['macro_f1']:.3f} | "
            + " | ".join(cells)
            + f" | {result['train_seconds']:.0f} s |"
        )
    return "\n".join(lines)
