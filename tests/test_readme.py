"""The README works on a fresh clone: its Python runs as written, its commands need no outside data."""

import os
import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_readme_python_examples_run_from_the_repository_root(capsys):
    """Every ```python block runs, in order, from the clone's root (data: the packaged TREC)."""
    blocks = _blocks("python")
    assert blocks
    cwd = os.getcwd()
    os.chdir(README.parent)
    try:
        for number, code in enumerate(blocks, start=1):
            exec(compile(code, f"{README}:python block {number}", "exec"), {"__name__": "readme"})
    finally:
        os.chdir(cwd)
    assert capsys.readouterr().out.strip(), "the README's example should print what it measured"


def test_readme_needs_nothing_beside_the_clone():
    text = README.read_text(encoding="utf-8")
    outside = re.compile(r"\bshared[/\\]")  # the development machine's folder beside the clone
    hits = [f"README.md:{n}: {line.strip()}" for n, line in enumerate(text.splitlines(), start=1)
            if outside.search(line)]
    assert not hits, "the README points outside the repository:\n" + "\n".join(hits)
    for name in set(re.findall(r"\bdocs/[\w./-]+\.md", text)):
        assert (README.parent / name).is_file(), f"README links {name}, which is not in the repository"


def test_two_commands_install_and_run_the_main_job_without_data_flags():
    section = README.read_text(encoding="utf-8").split("## Two commands", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    assert len(commands) == 2, "one command to install and run the main job, one to run the tests"
    install_and_run, tests = commands
    assert "pip install torch==2.13.0" in install_and_run
    assert re.search(r"pip install -e \.(\s|&&|$)", install_and_run), "runtime install without extras"
    assert "rnn2snn reproduce --out runs/reproduce --seed 0" in install_and_run
    assert "--data-dir" not in install_and_run and "--train" not in install_and_run
    assert '".[test]"' in tests and "python -m pytest -q" in tests
    assert "https://pytorch.org/get-started/locally/" in section
