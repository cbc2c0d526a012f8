"""A short model card (MODEL_CARD.md) beside the weights: what the model is, what it was trained on, how good it is."""

from __future__ import annotations

from pathlib import Path

from sentiment_model import checkpoint
from sentiment_model.languages import model_languages

CARD = "MODEL_CARD.md"


def write_card(directory: Path) -> Path:
    """(Re)write the card from the directory's model.json."""
    directory = Path(directory)
    meta = checkpoint.read_meta(directory)
    cfg, mc = meta.get("train_config", {}), meta["model_config"]
    data = meta.get("data", {})
    lines = [
        f"# Sentiment model {meta['version']}",
        "",
        f"- Saved: {meta.get('saved_at', '?')}; trained in {meta.get('train_seconds', '?')} s "
        f"on {meta.get('device', '?')}",
        f"- Architecture: embedding {mc['embed_dim']} -> {'bidirectional ' if mc['bidirectional'] else ''}LSTM "
        f"{mc['hidden_dim']} x {mc['num_layers']} layer(s) -> {mc['pooling']} pooling -> linear; "
        f"vocabulary {mc['vocab_size']} tokens; texts cut to {meta['max_tokens']} tokens",
        f"- Labels: {', '.join(meta['labels'])}",
        f"- Reads: {', '.join(model_languages(meta))}"
        + (
            f" (training rows by language: {_language_rows(meta['language_rows'])}); documents in other "
            "languages are skipped when scoring, counted per language"
            if meta.get("language_rows")
            else " (assumed: this model was saved before languages were recorded)"
        ),
        f"- Training data: {cfg.get('data', '?')} ({data.get('train_rows', '?')} rows); "
        f"validation: {data.get('validation_source', '?')} ({data.get('validation_rows', '?')} rows)",
        f"- Recipe: {cfg.get('recipe', '?')}; best epoch {meta.get('best_epoch', '?')} of "
        f"{len(meta.get('history', []))}; seed {cfg.get('seed', '?')}",
        f"- Embedding start: {_embedding_start(cfg.get('embeddings'))}",
        *(
            [f"- LSTM start: pretrained language model {Path(cfg['pretrained']).name}"]
            if cfg.get("pretrained") not in (None, "none")
            else []
        ),
        *_mix_lines(data.get("mix")),
        f"- Calibration: temperature {meta.get('temperature', 1.0):.2f} fitted on validation",
        "",
        "## Metrics",
        "",
        "| split | n | accuracy | macro-F1 | macro-recall |",
        "|---|---|---|---|---|",
    ]
    for split, m in meta.get("metrics", {}).items():
        lines.append(
            f"| {split} | {m.get('n', '')} | {m['accuracy']:.3f} | {m['macro_f1']:.3f} | {m['macro_recall']:.3f} |"
        )
    lines += _language_lines(meta.get("validation_by_language"))
    lines += [
        "",
        "## Use and limits",
        "",
        "- Scores social and news text in the languages and domains it was trained on; other domains "
        "read with a bias: check on labelled samples first.",
        "- Per-language validation scores, where measured: `python -m bench.accuracy --dataset general`.",
        "- `score` = P(positive) - P(negative) when both labels exist.",
        "- Load with `sentiment_model.checkpoint.load` (weights only, no pickled code).",
        "",
        "Files: weights.pt (state_dict), model.json (config, labels, metrics, history), vocab.json, "
        "training_curve.png.",
    ]
    path = directory / CARD
    path.write_text("\n".join(lines) + "\n")
    return path


def _language_lines(by_language: dict | None) -> list[str]:
    """Validation scores per language (rows held out of training and selected on), when there are several."""
    if not by_language:
        return []
    lines = [
        "",
        "Per language (validation rows; each row decided among its source's labels):",
        "",
        "| language | n | accuracy | macro-F1 |",
        "|---|---|---|---|",
    ]
    for lang, m in by_language.items():
        lines.append(f"| {lang} | {m['n']} | {m['accuracy']:.3f} | {m['macro_f1']:.3f} |")
    return lines


def _mix_lines(mix: dict | None) -> list[str]:
    """The sources of a general mix: rows trained on, labels, rows dropped because a judged split holds them."""
    if not mix:
        return []
    lines = ["- Sources (general mix; binary sources decide among their own labels):"]
    for source, row in mix.items():
        lines.append(
            f"  - {source}: {row['train']} rows ({'/'.join(row['labels'])}), {row['select']} to select on, "
            f"{row['judged']} left out as in a judged split"
        )
    return lines


def _language_rows(rows: dict[str, int], most: int = 10) -> str:
    top = list(rows.items())[:most]
    return ", ".join(f"{lang} {n:,}" for lang, n in top) + (", ..." if len(rows) > most else "")


def _embedding_start(embeddings: str | None) -> str:
    if embeddings in (None, "none"):
        return "random"
    return f"pretrained word vectors {Path(embeddings).name}"
