"""The commands the README and docs/ show work as written.

Every `sentiment ...` line in a shell block names a real command and only options that
command has; the query examples run for real on a small scored warehouse.
"""

import re
import shlex
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from sentiment_cli import app
from tests.factories import make_lake

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
OPTION = re.compile(r"(?<![\w-])(--[a-z][a-z0-9-]*)")


def shell_commands(page: Path) -> list[tuple[int, str]]:
    """(line number, command) of every `sentiment` command in the page's bash blocks, continuations joined."""
    found, block, pending, start = [], None, "", 0
    for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("```"):
            block = None if block is not None else stripped[3:]
            continue
        if block not in ("bash", "sh", "shell", ""):
            continue
        if pending:
            pending += " " + stripped.rstrip("\\").strip()
            if not stripped.endswith("\\"):
                found.append((start, pending))
                pending = ""
        elif stripped.startswith("sentiment "):
            start, text = number, stripped.split("  #")[0].rstrip()
            if text.endswith("\\"):
                pending = text.rstrip("\\").strip()
            else:
                found.append((start, text))
    return found


def _resolve(group, words: list[str]) -> tuple:
    """The command the words name, and the words that named it."""
    command, path = group, []
    while hasattr(command, "commands") and words and not words[0].startswith("-"):
        sub = command.commands.get(words[0])
        if sub is None:
            break
        command, path, words = sub, [*path, words[0]], words[1:]
    assert path, f"no command {words[:1]}"
    return command, path


def _check_options(command, text: str, where: str) -> None:
    known = {
        opt for param in command.params for opt in getattr(param, "opts", []) + getattr(param, "secondary_opts", [])
    }
    known.add("--help")
    passes_on = bool(command.context_settings.get("ignore_unknown_options"))  # the rest goes to Beam
    for option in OPTION.findall(text):
        assert option in known or passes_on, f"{where}: `{command.name}` has no option {option}"


ALL_COMMANDS = [(page, number, text) for page in PAGES for number, text in shell_commands(page)]


def test_the_pages_show_commands():
    assert len(ALL_COMMANDS) > 30
    assert {page.name for page, _, _ in ALL_COMMANDS} >= {"README.md", "scoring.md", "queries.md"}


@pytest.mark.parametrize("page,number,text", ALL_COMMANDS, ids=[f"{p.name}:{n}" for p, n, _ in ALL_COMMANDS])
def test_every_command_shown_exists_with_the_options_shown(page, number, text):
    group = typer.main.get_command(app)
    where = f"{page.name}:{number}"
    words = text.split()[1:]
    # `a | b` lists alternatives: another subcommand of the same group, or other options of the same command.
    segments = [seg.split() for seg in re.split(r"\s\|\s", " ".join(words))]
    command, path = _resolve(group, segments[0])
    _check_options(command, " ".join(segments[0]), where)
    parent = _resolve(group, path[:-1])[0] if len(path) > 1 else group
    for seg in segments[1:]:
        if seg and not seg[0].startswith(("-", "[")) and seg[0] in parent.commands:
            other, _ = _resolve(parent, seg) if parent is not group else _resolve(group, seg)
            _check_options(other, " ".join(seg), where)
        else:  # more options of the same command
            _check_options(command, " ".join(seg), where)


def _query_commands() -> list[str]:
    return [text for page, _, text in ALL_COMMANDS if page.name == "queries.md" and "$" not in text.split()[1]]


def test_the_query_examples_run_on_a_scored_warehouse(tmp_path, tiny_model, monkeypatch):
    home = make_lake(tmp_path, tiny_model).root
    runner = CliRunner()
    monkeypatch.setenv("SENTIMENT_HOME", str(home))
    monkeypatch.chdir(tmp_path)
    score = ["score", "--from", "2015-02-17", "--to", "2015-02-20", "--runner=FnApiRunner"]
    assert runner.invoke(app, score).exit_code == 0
    no_topics = runner.invoke(app, ["trend", "--topic", "crew"])
    assert no_topics.exit_code != 0 and "scored without topics" in no_topics.output and "--topics" in no_topics.output
    (home / "topics.toml").write_text('[topics.crew]\nkeywords = ["crew"]\n')
    scored = runner.invoke(app, score)
    assert scored.exit_code == 0, scored.output
    commands = _query_commands()
    assert len(commands) >= 4
    for text in commands:
        result = runner.invoke(app, shlex.split(text)[1:])
        assert result.exit_code == 0, f"{text}\n{result.output}"
    assert "2015-02-20" in Path("week.csv").read_text() and Path("twitter.png").stat().st_size > 5000
