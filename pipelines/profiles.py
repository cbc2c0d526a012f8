"""Runner profiles: YAML files of Beam pipeline options (infra/runners/*.yaml)."""

from __future__ import annotations

from pathlib import Path

import yaml


def profile_args(path: Path) -> list[str]:
    """The profile as Beam command-line flags: `--runner=...` first, then its options."""
    try:
        profile = yaml.safe_load(Path(path).read_text())
    except FileNotFoundError as err:
        raise FileNotFoundError(f"runner profile not found: {path} (see infra/runners/)") from err
    if not isinstance(profile, dict) or "runner" not in profile:
        raise ValueError(f"{path}: a runner profile is a mapping with `runner` and `options`")
    args = [f"--runner={profile['runner']}"]
    for name, value in (profile.get("options") or {}).items():
        values = value if isinstance(value, list) else [value]
        for item in values:
            if isinstance(item, bool):
                args.append(f"--{name}" if item else f"--no_{name}")
            else:
                args.append(f"--{name}={item}")
    return args


def merge_args(profile: list[str], given: list[str]) -> list[str]:
    """Profile flags then command-line flags; a flag given on the command line replaces the profile's."""
    given_names = {flag.split("=", 1)[0] for flag in given if flag.startswith("--")}
    return [flag for flag in profile if flag.split("=", 1)[0] not in given_names] + given
