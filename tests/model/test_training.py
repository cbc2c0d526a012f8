"""Training: splits, recipes, config files, early stopping, resume, calibration and the artifacts it writes."""

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

from sentiment_model import checkpoint, recipes
from sentiment_model.calibrate import expected_calibration_error, fit_temperature
from sentiment_model.card import CARD
from sentiment_model.data import LabelledText, holdout, load_splits
from sentiment_model.train import STATE, TrainConfig, train
from tests.factories import TINY_TRAIN, labelled_rows

QUICK = {**TINY_TRAIN, "epochs": 3, "seed": 5}


def test_holdout_is_stratified_deterministic_and_loses_nothing():
    data = LabelledText([f"t{i}" for i in range(100)], ["a"] * 80 + ["b"] * 20)
    kept, held = holdout(data, 0.1, seed=1)
    assert sorted(kept.texts + held.texts) == sorted(data.texts)
    assert held.labels.count("a") == 8 and held.labels.count("b") == 2
    assert holdout(data, 0.1, seed=1)[1].texts == held.texts
    assert holdout(data, 0.1, seed=2)[1].texts != held.texts


def test_splits_from_a_single_parquet_file_hold_out_validation(tmp_path):
    path = tmp_path / "all.parquet"
    pq.write_table(pa.Table.from_pylist(labelled_rows(90)), path)
    splits = load_splits(path, 0.2, seed=3)
    assert len(splits.train.texts) == 72 and len(splits.validation.texts) == 18
    assert "20% of all.parquet" in splits.validation_source
    with pytest.raises(FileNotFoundError, match="train.parquet"):
        load_splits(tmp_path)


def test_recipe_is_chosen_by_size_and_length_and_explicit_settings_win(tmp_path):
    assert recipes.choose(60000, [10] * 100) == "short"
    assert recipes.choose(2000, [10] * 100) == "small"
    assert recipes.choose(25000, [230] * 100) == "long"
    cfg = TrainConfig(data=tmp_path, out=tmp_path, max_tokens=50).with_recipe(25000, [230] * 100)
    assert cfg.recipe == "long" and cfg.max_tokens == 50 and cfg.batch_size == recipes.RECIPES["long"]["batch_size"]
    with pytest.raises(ValueError, match="unknown recipe"):
        TrainConfig(data=tmp_path, out=tmp_path, recipe="huge")


def test_config_file_with_flags_on_top(tmp_path):
    path = tmp_path / "train.toml"
    path.write_text('epochs = 4\nlr = 0.005\nrecipe = "small"\n')
    cfg = TrainConfig.from_file(path, data=tmp_path, out=tmp_path / "m", epochs=2, lr=None)
    assert (cfg.epochs, cfg.lr, cfg.recipe) == (2, 0.005, "small")
    path.write_text("learning_rate = 0.1\n")
    with pytest.raises(ValueError, match="unknown setting.*learning_rate"):
        TrainConfig.from_file(path, data=tmp_path, out=tmp_path)


def test_early_stopping_ends_when_validation_stops_improving(labelled_dir, tmp_path):
    # with a zero learning rate nothing improves after the first epoch
    out = train(TrainConfig(data=labelled_dir, out=tmp_path / "m", **{**QUICK, "epochs": 8, "lr": 0.0}, patience=2))
    meta = checkpoint.read_meta(out)
    assert [h["epoch"] for h in meta["history"]] == [1, 2, 3]
    assert meta["best_epoch"] == 1


def test_artifacts_curve_card_calibration_and_throughput(tiny_model):
    meta = checkpoint.read_meta(tiny_model)
    assert (tiny_model / "training_curve.png").stat().st_size > 5000
    card = (tiny_model / CARD).read_text()
    assert meta["version"] in card and "| validation |" in card
    assert meta["temperature"] == meta["calibration"]["temperature"] > 0
    assert all(h["tokens_per_s"] > 0 and h["epoch_seconds"] > 0 for h in meta["history"])
    assert meta["train_config"]["recipe"] == "small"  # 240 rows of short text
    assert not (tiny_model / STATE).exists()


def test_an_interrupted_run_resumes_to_the_same_weights(labelled_dir, tmp_path):
    whole = train(TrainConfig(data=labelled_dir, out=tmp_path / "whole", **QUICK))

    class Killed(Exception):
        pass

    def kill_after_first(record):
        if record["epoch"] == 1:
            raise Killed

    with pytest.raises(Killed):
        train(TrainConfig(data=labelled_dir, out=tmp_path / "resumed", **QUICK), on_epoch=kill_after_first)
    assert (tmp_path / "resumed" / STATE).is_file()
    resumed = train(TrainConfig(data=labelled_dir, out=tmp_path / "resumed", resume=True, **QUICK))
    a = torch.load(whole / checkpoint.WEIGHTS, weights_only=True)
    b = torch.load(resumed / checkpoint.WEIGHTS, weights_only=True)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert len(checkpoint.read_meta(resumed)["history"]) == 3
    with pytest.raises(Killed):
        train(TrainConfig(data=labelled_dir, out=tmp_path / "other", **QUICK), on_epoch=kill_after_first)
    with pytest.raises(ValueError, match="other settings"):
        train(TrainConfig(data=labelled_dir, out=tmp_path / "other", resume=True, **{**QUICK, "lr": 0.5}))


def test_temperature_scaling_recovers_an_overconfident_models_temperature():
    gen = torch.Generator().manual_seed(0)
    true_logits = torch.randn(4000, 3, generator=gen) * 1.5
    targets = torch.multinomial(torch.softmax(true_logits, -1), 1, generator=gen).squeeze(1)
    overconfident = true_logits * 3
    t = fit_temperature(overconfident, targets)
    assert 2.6 < t < 3.4
    before = expected_calibration_error(torch.softmax(overconfident, -1), targets)
    after = expected_calibration_error(torch.softmax(overconfident / t, -1), targets)
    assert after < before / 3


def test_ece_of_a_perfectly_calibrated_toy():
    probs = torch.tensor([[0.75, 0.25]] * 4)
    assert expected_calibration_error(probs, torch.tensor([0, 0, 0, 1])) == pytest.approx(0.0)
    assert expected_calibration_error(probs, torch.tensor([1, 1, 1, 1])) == pytest.approx(0.75)


def test_training_data_with_one_label_is_refused(tmp_path):
    pq.write_table(pa.table({"text": ["a", "b"], "label": ["x", "x"]}), tmp_path / "train.parquet")
    with pytest.raises(ValueError, match="fewer than two labels"):
        train(TrainConfig(data=tmp_path, out=tmp_path / "m", **QUICK))


def test_model_json_records_where_validation_came_from(tiny_model):
    meta = json.loads((tiny_model / checkpoint.META).read_text())
    assert meta["data"]["validation_source"].endswith("validation.parquet")
    assert meta["data"]["train_rows"] == 240
