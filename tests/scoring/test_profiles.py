"""Runner profiles in infra/runners: valid Beam options, and the wheel they name is built by `make wheel`."""

import subprocess
from pathlib import Path

import pytest
from apache_beam.options.pipeline_options import PipelineOptions, SetupOptions, StandardOptions

from pipelines.profiles import merge_args, profile_args, runner_session
from pipelines.score import ScoreJob, pipeline_options

ROOT = Path(__file__).resolve().parents[2]
PROFILES = sorted((ROOT / "infra" / "runners").glob("*.yaml"))
KNOWN_RUNNERS = set(StandardOptions.KNOWN_RUNNER_NAMES)


def test_there_is_a_profile_for_each_engine():
    assert {p.stem for p in PROFILES} >= {"local", "portable", "flink", "spark", "dataflow"}


@pytest.mark.parametrize("path", PROFILES, ids=lambda p: p.stem)
def test_profile_parses_into_pipeline_options(path):
    args = profile_args(path)
    options = PipelineOptions(args)
    assert options.view_as(StandardOptions).runner in KNOWN_RUNNERS
    known = options.get_all_options(drop_default=True)
    for flag in args:  # every option in the profile is one Beam knows
        name = flag.removeprefix("--").split("=", 1)[0]
        assert name in known or name == "runner", f"{path.name}: Beam does not know --{name}"


def test_command_line_flags_win_over_the_profile(tmp_path):
    merged = merge_args(["--runner=FlinkRunner", "--parallelism=8"], ["--parallelism=2"])
    assert merged == ["--runner=FlinkRunner", "--parallelism=2"]
    job = ScoreJob(
        home=tmp_path,
        start="2024-01-01",
        end="2024-01-01",
        profile=ROOT / "infra/runners/portable.yaml",
        beam_args=["--job_endpoint=localhost:1"],
    )
    with runner_session(job.profile, job.beam_args) as session:  # an endpoint given: nothing started
        options = pipeline_options(session.args).get_all_options()
    assert options["runner"] == "PortableRunner" and options["job_endpoint"] == "localhost:1"


@pytest.mark.slow
def test_make_wheel_builds_the_package_the_profiles_name():
    subprocess.run(["make", "-s", "wheel"], cwd=ROOT, check=True, capture_output=True)
    built = {p.name for p in (ROOT / "dist").glob("*.whl")}
    for path in PROFILES:
        for package in PipelineOptions(profile_args(path)).view_as(SetupOptions).extra_packages or []:
            assert Path(package).name in built, f"{path.name} names {package}; make wheel built {built}"


def test_prefect_yaml_names_real_flows_and_the_nightly_schedule():
    import importlib

    import yaml
    from prefect import Flow

    config = yaml.safe_load((ROOT / "infra" / "prefect.yaml").read_text())
    deployments = {d["name"]: d for d in config["deployments"]}
    assert set(deployments) == {"nightly", "backfill", "train"}
    for deployment in deployments.values():
        module, name = deployment["entrypoint"].split(":")
        flow = getattr(importlib.import_module(module.removesuffix(".py").replace("/", ".")), name)
        assert isinstance(flow, Flow)
        assert set(deployment["parameters"]) <= set(flow.parameters.properties)
    assert deployments["nightly"]["schedules"][0]["cron"] == "0 2 * * *"


def test_device_names():
    assert ScoreJob(home=ROOT, start="2024-01-01", end="2024-01-01", device="cuda").device == "GPU"
    with pytest.raises(ValueError, match="cpu or cuda"):
        ScoreJob(home=ROOT, start="2024-01-01", end="2024-01-01", device="tpu")
