"""Train, judge, use and register models: train, evaluate, predict, explain, embeddings, pretrain, models."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from sentiment.storage import as_parameter
from sentiment_cli.common import (
    DataOption,
    HomeOption,
    app,
    fail,
    models_app,
    settings_for,
)


@app.command()
def train(
    data: Path = typer.Option(
        None,
        help="Directory with train.parquet (+ validation.parquet), or one Parquet file "
        "(text, label). Without validation data 10% of train is held out.",
    ),
    dataset: str = typer.Option(
        None,
        help="A dataset under the data directory instead of --data, e.g. sst2; "
        "`general`: every labelled set mapped to negative/neutral/positive, balanced: English "
        'sources and tweets in ar, de, es, fr, hi, it, pt (docs/model.md, "The general '
        'model"); `general-english`: the English sources only.',
    ),
    out: Path = typer.Option(None, help="Model directory to write (or use --register)."),
    config: Path = typer.Option(None, help="TOML file of training settings (TrainConfig's names); flags win."),
    recipe: str = typer.Option(
        None, help="auto (default: by data size, text length and sources), short, small, long or general."
    ),
    epochs: int = typer.Option(None, help="Most passes over the data (early stopping may end sooner)."),
    batch_size: int = typer.Option(None, help="Documents per step."),
    lr: float = typer.Option(None, help="Peak AdamW learning rate."),
    max_tokens: int = typer.Option(None, help="Texts are cut to this many tokens."),
    device: str = typer.Option(None, help="auto (CUDA when available), cpu or cuda."),
    class_weights: bool = typer.Option(
        None, "--class-weights/--no-class-weights", help="Weight the loss by inverse class frequency (skewed labels)."
    ),
    seed: int = typer.Option(None, help="Seed for the holdout, shuffling, initialisation and dropout."),
    embeddings: str = typer.Option(
        None,
        help="Word vectors to start from: auto (default: pretrained on the datasets "
        "directory's unlabelled text, built once and cached), none, or an .npz file.",
    ),
    pretrained: str = typer.Option(
        None,
        help="Start the LSTM from a pretrained language model: a .pt file from "
        "`sentiment pretrain`, auto (the cached one, built once: up to 30 min on 2 cores), "
        "or none (default).",
    ),
    resume: bool = typer.Option(False, "--resume", help="Continue from OUT/train_state.pt after an interruption."),
    max_train_samples: int = typer.Option(None, help="Use only this many training rows (quick runs)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="One epoch on 256 rows, random vectors: checks the set-up."),
    register: bool = typer.Option(
        False,
        "--register",
        help="Run the train flow: add the model to the warehouse and make it current "
        "if it is at least as good as the current one on --eval-data.",
    ),
    eval_data: Path = typer.Option(None, help="With --register: the fixed evaluation set (default DATA/test.parquet)."),
    metric: str = typer.Option("macro_f1", help="With --register: accuracy, macro_f1 or macro_recall."),
    home: str = HomeOption,
    data_dir: Path = DataOption,
):
    """Train the LSTM classifier: AdamW, warm-up + linear decay, early stopping on validation macro-F1.

    The best epoch is saved as weights (state_dict) + model.json + vocab.json, with a training-curve PNG
    and a model card. Unset settings come from the recipe chosen for the data (see --recipe).
    """
    from dataclasses import replace

    from sentiment_model import general_mix
    from sentiment_model.corpus import resolve_embeddings
    from sentiment_model.pretrain import resolve as resolve_pretrained
    from sentiment_model.train import TrainConfig
    from sentiment_model.train import train as run_train

    settings = settings_for(home, data_dir)
    if (data is None) == (dataset is None):
        fail("give --data DIR_OR_PARQUET or --dataset NAME (one of them)")
    mix_settings: dict = {}
    if dataset in general_mix.NAMED:
        mix, mix_settings = general_mix.NAMED[dataset]
        data = general_mix.cached(settings.data_dir, settings.general_cache, mix)
    data = data if data is not None else settings.data_dir / dataset
    if dry_run:  # quick: no word-vector pretraining unless asked for
        epochs, max_train_samples, embeddings = 1, 256, embeddings or "none"
    overrides = {
        "recipe": recipe,
        "epochs": epochs,
        "batch_size": batch_size,
        "lr": lr,
        "max_tokens": max_tokens,
        "device": device,
        "class_weights": class_weights,
        "seed": seed,
        "embeddings": embeddings,
        "max_train_samples": max_train_samples,
        "pretrained": pretrained,
    }
    overrides = {**mix_settings, **{k: v for k, v in overrides.items() if v is not None}}
    if register:
        from flows.train import train_flow

        typer.echo(json.dumps(train_flow(as_parameter(settings.home), data, eval_data, metric, overrides)))
        return
    if out is None:
        fail("give --out DIR, or --register to add the model to the warehouse")
    try:
        spec = overrides.pop("embeddings", None)
        if config is not None:
            cfg = TrainConfig.from_file(config, data=data, out=out, resume=resume, **overrides)
        else:
            cfg = TrainConfig(data=data, out=out, resume=resume, **overrides)
        spec = spec or cfg.embeddings or "auto"
        vectors = resolve_embeddings(spec, settings.data_dir, settings.embeddings_cache, cfg.embed_dim)
        lm = resolve_pretrained(cfg.pretrained, settings.data_dir, settings.lm_cache, cfg.resolved_device())
        trained = run_train(replace(cfg, embeddings=vectors, pretrained=lm))
    except (ValueError, FileNotFoundError) as err:
        fail(str(err))
    meta = json.loads((trained / "model.json").read_text())
    best = meta["metrics"]["validation"]
    typer.echo(
        f"best epoch {meta['best_epoch']} of {len(meta['history'])} ({meta['train_config']['recipe']} recipe, "
        f"{meta['train_seconds']:.0f} s on {meta['device']}): validation accuracy {best['accuracy']:.3f}, "
        f"macro-F1 {best['macro_f1']:.3f}; curve {trained / 'training_curve.png'}, card {trained / 'MODEL_CARD.md'}",
        err=True,
    )
    typer.echo(str(trained))


@app.command()
def evaluate(
    model: Path = typer.Option(..., help="Model directory."),
    data: Path = typer.Option(..., help="Parquet file with text and label."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object."),
    png: Path = typer.Option(None, "--png", help="Also draw the confusion matrix as a PNG."),
    all_labels: bool = typer.Option(
        False,
        "--all-labels",
        help="Decide among all the model's labels even when "
        "the data has fewer (by default binary data on a three-class model is decided "
        "between its two labels).",
    ),
):
    """Accuracy, macro-F1, macro-recall, per-class precision/recall, confusion matrix and calibration (ECE).

    Data whose labels are a subset of the model's (negative/positive reviews on the three-class general
    model) is decided among the data's labels only; the report says so (`decided_among` in --json)."""
    from sentiment_model.evaluate import evaluate as run_evaluate
    from sentiment_model.evaluate import format_report
    from sentiment_model.plots import confusion_matrix_png

    settings_for()
    try:
        result = run_evaluate(model, data, subset=not all_labels)
    except (ValueError, FileNotFoundError) as err:
        fail(str(err))
    typer.echo(json.dumps(result) if json_out else format_report(result))
    if png:
        title = f"{Path(model).name} on {Path(data).parent.name}/{Path(data).name}"
        path = confusion_matrix_png(result["confusion"]["matrix"], result["confusion"]["labels"], png, title)
        typer.echo(f"confusion matrix -> {path}", err=True)


@app.command()
def predict(
    texts: list[str] = typer.Argument(..., help="Texts to classify."),
    model: Path = typer.Option(None, help="Model directory (default: the warehouse's current model)."),
    home: str = HomeOption,
    json_out: bool = typer.Option(False, "--json"),
):
    """Label texts with a model: label, class probabilities and score. A text in a language the
    model does not read is still labelled, with a warning (the scoring job skips such documents)."""
    from sentiment.language import detect_languages
    from sentiment.warehouse import Warehouse
    from sentiment_model import checkpoint
    from sentiment_model.languages import UNDETERMINED, model_languages
    from sentiment_model.predict import Predictor

    settings = settings_for(home)
    try:
        directory = model or Warehouse(settings.home).current_model()
        rows = Predictor.load(directory).predict(texts)
        reads = model_languages(checkpoint.read_meta(directory))
    except FileNotFoundError as err:
        fail(str(err))
    for text, row, lang in zip(texts, rows, detect_languages(texts), strict=True):
        unread = lang not in (*reads, UNDETERMINED)
        if json_out:
            typer.echo(json.dumps({"text": text, **row, "lang": lang, "model_reads_lang": not unread}))
            continue
        probs = " ".join(f"{k} {v:.2f}" for k, v in row["probabilities"].items())
        typer.echo(f"{row['label']:<9} {probs}  | {text}")
        if unread:
            typer.secho(
                f"  warning: this text looks {lang}; the model reads {', '.join(reads)}: its label means "
                "little (scoring skips such documents)",
                fg=typer.colors.YELLOW,
                err=True,
            )


@app.command()
def explain(
    text: str = typer.Argument(..., help="The text to explain."),
    model: Path = typer.Option(None, help="Model directory (default: the warehouse's current model)."),
    png: Path = typer.Option(None, "--png", help="Also draw the table as a heatmap PNG."),
    home: str = HomeOption,
    json_out: bool = typer.Option(False, "--json", help="One JSON object per token."),
):
    """Token by token: the running class probabilities and the LSTM's input, forget and output gates."""
    from sentiment.warehouse import Warehouse
    from sentiment_model import checkpoint
    from sentiment_model.explain import explain as run_explain
    from sentiment_model.explain import plot_explanation

    settings = settings_for(home)
    try:
        bundle = checkpoint.load(model or Warehouse(settings.home).current_model())
        steps = run_explain(bundle, text)
    except (ValueError, FileNotFoundError) as err:
        fail(str(err))
    if json_out:
        for step in steps:
            typer.echo(json.dumps(step.__dict__))
    else:
        labels = list(steps[0].probabilities)
        typer.echo(
            f"{'token':<14}"
            + "".join(f"{'P(' + lab + ')':>13}" for lab in labels)
            + f"{'input':>8}{'forget':>8}{'output':>8}"
        )
        for step in steps:
            typer.echo(
                f"{step.token[:13]:<14}"
                + "".join(f"{step.probabilities[lab]:>13.2f}" for lab in labels)
                + f"{step.input_gate:>8.2f}{step.forget_gate:>8.2f}{step.output_gate:>8.2f}"
            )
    if png:
        typer.echo(f"heatmap -> {plot_explanation(steps, png, text[:80])}", err=True)


@app.command()
def embeddings(
    out: Path = typer.Option(..., help="The .npz file to write (tokens + vectors)."),
    text: list[Path] = typer.Option(
        None,
        help="Parquet files with a text column (repeatable); default: every "
        "dataset's train split and the unlabelled corpora, never a test split.",
    ),
    dim: int = typer.Option(128, help="Vector size: the model's embed_dim."),
    window: int = typer.Option(5, help="Words either side that count as context."),
    max_words: int = typer.Option(60000, help="Keep the most frequent words."),
    data_dir: Path = DataOption,
    show: list[str] = typer.Option(None, help="Print the nearest words of these (a quick look at quality)."),
):
    """Pretrain word vectors on unlabelled text (PPMI + SVD); start training from them with `train --embeddings`."""
    from sentiment_model.corpus import pretraining_files, texts
    from sentiment_model.embeddings import EmbeddingConfig, build

    settings = settings_for(None, data_dir)
    try:
        files = list(text) if text else pretraining_files(settings.data_dir)
        vectors = build(texts(files), EmbeddingConfig(dim=dim, window=window, max_words=max_words))
    except (ValueError, FileNotFoundError) as err:
        fail(str(err))
    typer.echo(f"{len(vectors.tokens)} words x {dim} from {len(files)} files -> {vectors.save(out)}")
    for word in show or []:
        typer.echo(f"  {word}: {', '.join(vectors.nearest(word)) or '(not in the vocabulary)'}")


@app.command()
def pretrain(
    out: Path = typer.Option(
        None,
        help="The .pt file to write; default: the warehouse's cache, keyed by the "
        "data and settings (built once, reused by `train --pretrained auto`).",
    ),
    epochs: int = typer.Option(4, help="Most passes over the text."),
    budget_minutes: float = typer.Option(30.0, help="Stop after this much training time."),
    max_tokens: int = typer.Option(64, help="Texts are cut to their first this many tokens."),
    device: str = typer.Option("auto", help="auto (CUDA when available), cpu or cuda."),
    home: str = HomeOption,
    data_dir: Path = DataOption,
):
    """Pretrain a bidirectional LSTM language model on every dataset's training text and the unlabelled
    corpora (never a judged split), for `train --pretrained` to start the classifier's LSTM from."""
    import shutil

    import torch

    from sentiment_model.pretrain import PretrainConfig, cached

    settings = settings_for(home, data_dir)
    resolved = ("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else device
    try:
        cfg = PretrainConfig(epochs=epochs, budget_minutes=budget_minutes, max_tokens=max_tokens)
        path = cached(settings.data_dir, settings.lm_cache, cfg, resolved)
    except (ValueError, FileNotFoundError) as err:
        fail(str(err))
    if out is not None:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, out)
        path = out
    typer.echo(str(path))


@models_app.command("list")
def models_list(
    home: str = HomeOption,
    json_out: bool = typer.Option(False, "--json", help="One JSON object per line."),
):
    """List model versions, their metrics, and which one is current."""
    from sentiment.warehouse import Warehouse
    from sentiment_model.registry import list_models

    settings = settings_for(home)
    rows = list_models(Warehouse(settings.home))
    if not rows:
        typer.echo(f"no models under {Warehouse(settings.home).models}: run `sentiment train --register`", err=True)
    for row in rows:
        if json_out:
            typer.echo(json.dumps(row))
            continue
        test = row["metrics"].get("test") or row["metrics"].get("validation") or {}
        scores = "  ".join(f"{k} {v:.3f}" for k, v in test.items() if k != "n")
        typer.echo(f"{'*' if row['current'] else ' '} {row['version']}  {scores}")


@models_app.command("import")
def models_import(
    model: Path = typer.Argument(..., help="A trained model directory (`sentiment train --out DIR`)."),
    current: bool = typer.Option(False, "--current", help="Make it the model that scoring uses."),
    home: str = HomeOption,
):
    """Copy a trained model into the warehouse's registry (kept as it is when that version is there already)."""
    from sentiment.warehouse import Warehouse
    from sentiment_model import checkpoint
    from sentiment_model.registry import register

    settings = settings_for(home)
    try:
        checkpoint.check(model)
        target = register(Warehouse(settings.home), model, None, make_current=current, copy=True)
    except (ValueError, FileNotFoundError) as err:
        fail(f"{model} is not a model directory this project can load: {err}")
    reads = ", ".join(checkpoint.read_meta(target).get("languages", ["en"]))
    typer.echo(f"{target} (reads {reads}){'; now current' if current else ''}")
