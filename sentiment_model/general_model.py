"""The general model, trained once per training mix and settings and cached by content.

The key covers the mix (its directory name is the fingerprint of every file it reads and of
the mix definition), the word vectors (their file name is their own fingerprint) and the
training settings, so a second run with the same data reuses the model and changed data
trains a new one.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
from dataclasses import replace
from pathlib import Path

from sentiment_model import checkpoint, general_mix, pretrain, recipes
from sentiment_model.corpus import resolve_embeddings
from sentiment_model.train import TrainConfig, train

log = logging.getLogger(__name__)


def model_key(mix: Path, vectors: Path | None, overrides: dict, lm: Path | None = None) -> str:
    skip = ("embeddings", "pretrained", "device", "threads")
    settings = sorted((k, str(v)) for k, v in overrides.items() if k not in skip)
    recipe = recipes.RECIPES["general"]  # a changed recipe trains a new model
    names = [Path(p).name if p else "-" for p in (mix, vectors, lm)]
    text = f"{'|'.join(names)}|{settings}|{recipe}"
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def cached_general_model(
    data_dir: Path, cache_dir: Path, embeddings_cache: Path, overrides: dict | None = None, lm_cache: Path | None = None
) -> tuple[Path, bool]:
    """The general model's directory, and whether it was trained now (False: reused from the cache)."""
    mix_config, settings = general_mix.NAMED[general_mix.NAME]
    overrides = {**settings, **(overrides or {})}
    mix = general_mix.cached(data_dir, cache_dir, mix_config)
    dim = overrides.get("embed_dim", TrainConfig.embed_dim)
    vectors = resolve_embeddings(overrides.pop("embeddings", "auto"), data_dir, embeddings_cache, dim)
    lm = pretrain.resolve(overrides.pop("pretrained", None), data_dir, lm_cache or Path(cache_dir) / "lm")
    out = Path(cache_dir) / f"model-{model_key(mix, vectors, overrides, lm)}"
    if (out / checkpoint.META).is_file():
        try:
            checkpoint.check(out)
            log.info("general model: reusing %s (same training data and settings)", out)
            return out, False
        except (ValueError, FileNotFoundError) as err:
            log.warning("general model cache %s is damaged (%s): training again", out, err)
    staging = out.with_name(out.name + ".training")
    shutil.rmtree(staging, ignore_errors=True)
    train(replace(TrainConfig(data=mix, out=staging, **overrides), embeddings=vectors, pretrained=lm))
    shutil.rmtree(out, ignore_errors=True)
    staging.replace(out)
    return out, True
