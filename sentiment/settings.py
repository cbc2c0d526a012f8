"""Where the warehouse and the datasets live, read once from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sentiment.storage import is_remote, location
from sentiment.warehouse import scratch

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def resolved(home) -> Path:
    """A warehouse location made absolute (a local path) or kept as it is (an object-store URL)."""
    home = location(home)
    return home if is_remote(home) else home.resolve()


class DataMissingError(RuntimeError):
    """A dataset the job needs is not on disk; the message says how to provide it."""


@dataclass(frozen=True)
class Settings:
    home: Path  # the warehouse: raw/, quarantine/, models/, scored/, aggregates/
    data_dir: Path  # the labelled and dated datasets (Parquet), one folder each

    @property
    def cache(self) -> Path:
        """Caches derived from the datasets: in the warehouse, or on local disk beside a remote one."""
        return scratch(self.home, "cache")

    @property
    def embeddings_cache(self) -> Path:
        """Pretrained word vectors built from `data_dir`, cached by content."""
        return self.cache / "embeddings"

    @property
    def lm_cache(self) -> Path:
        """The pretrained language model built from `data_dir` (`sentiment pretrain`), cached by content."""
        return self.cache / "lm"

    @property
    def general_cache(self) -> Path:
        """The general training mix and the general model built from `data_dir`, cached by content."""
        return self.cache / "general"

    @classmethod
    def from_env(cls) -> Settings:
        home = location(os.environ.get("SENTIMENT_HOME", "warehouse"))
        data = os.environ.get("SENTIMENT_DATA_DIR")
        data_dir = Path(data).expanduser() if data else default_data_dir()
        return cls(home=resolved(home), data_dir=data_dir.resolve())


def default_data_dir() -> Path:
    """`../shared/data` beside the project root when it exists, else the download cache."""
    shared = PROJECT_ROOT.parent / "shared" / "data"
    if shared.is_dir():
        return shared
    cache = os.environ.get("XDG_CACHE_HOME", str(Path.home() / ".cache"))
    return Path(cache) / "sentiment" / "data"


def require_file(data_dir: Path, relative: str) -> Path:
    """The path of a dataset file, or a DataMissingError that says what to do."""
    return require_files(data_dir, [relative])[0]


def require_files(data_dir: Path, relatives: list[str]) -> list[Path]:
    """The paths of dataset files; one DataMissingError naming every missing file."""
    missing = [r for r in relatives if not (data_dir / r).is_file()]
    if missing:
        raise DataMissingError(
            f"missing dataset file(s) in {data_dir}: {', '.join(missing)}\n"
            f"  The datasets directory is {data_dir} (set SENTIMENT_DATA_DIR to change it).\n"
            f"  Provide it with `sentiment datasets download --dest {data_dir}`, or point\n"
            f"  SENTIMENT_DATA_DIR at a directory that holds {', '.join(missing)}."
        )
    return [data_dir / r for r in relatives]
