"""The README stays a five-minute read and the manual (mkdocs.yml, docs/) stays whole.

Why: the README keeps what a newcomer needs and links into the manual for the rest; a
page missing from the nav, a link to a page that moved, a copy of a README block that
drifted or an API reference path that no longer names the public function would each
leave the manual wrong without a word. ``mkdocs build --strict`` (CI) catches the same
and more; these checks need no extra.
"""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from pathlib import Path

from extras import needs

import rnn2snn

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
README_MAX_LINES = 250
#: The stable public names (lazy attributes of ``rnn2snn``) that docs/reference.md documents.
PUBLIC = ("convert_model", "run_pipeline", "PipelineConfig", "load_program", "save_program", "predict_texts",
          "get_target")


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _nav_pages() -> list[str]:
    """The Markdown files the nav of mkdocs.yml lists (docs/-relative), in order."""
    config = _text(ROOT / "mkdocs.yml")
    nav = config.split("\nnav:\n", 1)[1]
    nav = nav[:re.search(r"^\S", nav, flags=re.M).start()]  # up to the next top-level key
    return re.findall(r"^\s+- (?:.*?:\s*)?([\w./-]+\.md)\s*$", nav, flags=re.M)


def _block(text: str, language: str, section: str | None = None) -> list[str]:
    if section is not None:
        text = text.split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
    return [b.strip() for b in re.findall(rf"```{language}\n(.*?)```", text, flags=re.S)]


def test_readme_is_at_most_250_lines():
    lines = _text(ROOT / "README.md").splitlines()
    assert len(lines) <= README_MAX_LINES, (
        f"README.md has {len(lines)} lines, more than {README_MAX_LINES}: move the detail into docs/")


def test_every_nav_page_exists_and_every_page_is_in_the_nav():
    pages = _nav_pages()
    assert "index.md" in pages and "architecture.md" in pages and "reference.md" in pages, pages
    assert len(pages) == len(set(pages)), f"a page listed twice in the nav: {pages}"
    missing = [p for p in pages if not (DOCS / p).is_file()]
    assert not missing, f"mkdocs.yml's nav lists pages that docs/ lacks: {missing}"
    on_disk = sorted(str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md"))
    assert sorted(pages) == on_disk, f"pages in docs/ outside the nav: {sorted(set(on_disk) - set(pages))}"


def test_relative_links_of_the_manual_and_the_readme_point_at_files_that_exist():
    broken = []
    sources = [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]
    for source in sources:
        for target in re.findall(r"\]\(([^)\s]+)\)", _text(source)):
            path = target.split("#", 1)[0]
            if not path or re.match(r"[a-z]+:", path):  # an anchor on the page, or a URL
                continue
            if not (source.parent / path).exists():
                broken.append(f"{source.relative_to(ROOT)}: {target}")
    assert not broken, "links to files that do not exist:\n" + "\n".join(broken)


def test_blocks_the_manual_copies_from_the_readme_are_the_same():
    """The two commands, the convert_model example and the Norse snippet are run from the
    README (tests, CI), and the stage table is measured anew into both; the manual's
    copies must say the same."""
    readme = _text(ROOT / "README.md")
    assert _block(_text(DOCS / "index.md"), "bash", "Two commands") == _block(readme, "bash", "Two commands")
    (norse,) = _block(readme, "py")
    assert _block(_text(DOCS / "targets" / "nir.md"), "py") == [norse]
    assert _block(_text(DOCS / "own-model.md"), "python") == _block(readme, "python")  # convert_model
    assert _stage_table(_text(DOCS / "reproduce.md")) == _stage_table(readme), \
        "the reproduce stage table differs between README.md and docs/reproduce.md: update both"


def _stage_table(text: str) -> str:
    """The `rnn2snn reproduce` stage table (the rows of the paper's network over seeds)."""
    (table,) = re.findall(r"^\| stage \| paper: test.*?\n(?:\|.*\n)+", text, flags=re.M)
    return table


def test_the_api_reference_names_the_public_functions_where_they_are_defined():
    """Each ``::: path`` of docs/reference.md imports, and is the lazy ``rnn2snn.<name>``;
    every public name has its entry (the one place to update when a name moves)."""
    paths = re.findall(r"^::: ([\w.]+)\s*$", _text(DOCS / "reference.md"), flags=re.M)
    names = {}
    for path in paths:
        module, name = path.rsplit(".", 1)
        names[name] = getattr(importlib.import_module(module), name)
    assert sorted(names) == sorted(PUBLIC), (sorted(names), sorted(PUBLIC))
    for name, obj in names.items():
        assert getattr(rnn2snn, name) is obj, f"docs/reference.md documents another {name} than rnn2snn's"
        assert (obj.__doc__ or "").strip(), f"{name} has no docstring for the reference"


@needs("mkdocs")
def test_the_manual_builds_strictly(tmp_path):
    """What CI runs: a broken link or anchor, or a reference that does not resolve, fails."""
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "architecture" / "index.html").is_file()
    assert "convert_model" in (tmp_path / "reference" / "index.html").read_text(encoding="utf-8")
