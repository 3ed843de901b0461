"""The Python snippets of README.md and docs/ run as written.

Convention for every Markdown page (``README.md`` and ``docs/**/*.md``):

- Each fenced block opened with ```` ```python ```` runs. The blocks of one page run in
  page order in one shared namespace (a later block may use names an earlier one
  defined), with a fresh temporary folder as the working directory, so files a snippet
  writes (``model.skops``, ``vectors.txt``) vanish afterwards.
- A page may prepare data the reader is assumed to have (``events``, ``labels``, a
  fitted ``embedder``) in a hidden setup block, an HTML comment invisible on the
  rendered page::

      <!-- test: setup
      from skmed2vec.datasets import make_cohort
      events = make_cohort(200, random_state=0).events
      -->

  Setup blocks run in page order too, interleaved with the visible blocks.
- A block directly preceded by the line ``<!-- test: skip -->`` does not run; use it
  only for snippets that cannot run here (a GPU, a network download, data of the
  reader's own) and keep them short.
- Other fences (``bash``, ``text``, ``console``, ``pycon``…) are not run.

Keep setup data small: the snippets of all pages together should run in seconds.
"""

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
PAGES = [p for p in PAGES if "_build" not in p.parts]

_SETUP = re.compile(r"^<!--\s*test:\s*setup\s*$")
_SKIP = re.compile(r"^<!--\s*test:\s*skip\s*-->\s*$")
_FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*([\w+-]*)")


def extract_snippets(text):
    """The runnable blocks of a page, in order: list of (first line number, code, kind).

    ``kind`` is ``"setup"`` for a hidden setup block, ``"python"`` for a visible one;
    skipped blocks are left out.
    """
    lines = text.splitlines()
    snippets = []
    i = 0
    skip_next = False
    while i < len(lines):
        line = lines[i]
        if _SETUP.match(line.strip()):
            start = i + 1
            end = start
            while end < len(lines) and lines[end].strip() != "-->":
                end += 1
            if end == len(lines):
                raise ValueError(f"line {i + 1}: setup block is never closed with '-->'")
            snippets.append((start + 1, "\n".join(lines[start:end]), "setup"))
            i = end + 1
            continue
        if _SKIP.match(line.strip()):
            skip_next = True
            i += 1
            continue
        fence = _FENCE.match(line)
        if fence:
            indent, marker, language = fence.groups()
            start = i + 1
            end = start
            while end < len(lines) and not lines[end].strip().startswith(marker):
                end += 1
            block = [
                row[len(indent) :] if row.startswith(indent) else row for row in lines[start:end]
            ]
            if language == "python" and not skip_next:
                snippets.append((start + 1, "\n".join(block), "python"))
            skip_next = False
            i = end + 1
            continue
        if line.strip():
            skip_next = False
        i += 1
    return snippets


def test_extract_snippets_follows_the_convention():
    page = "\n".join(
        [
            "<!-- test: setup",
            "x = 1",
            "-->",
            "```python",
            "y = x + 1",
            "```",
            "<!-- test: skip -->",
            "```python",
            "raise SystemExit",
            "```",
            "```bash",
            "echo no",
            "```",
            "````python",
            "z = '```'",
            "````",
        ]
    )
    assert extract_snippets(page) == [
        (2, "x = 1", "setup"),
        (5, "y = x + 1", "python"),
        (15, "z = '```'", "python"),
    ]
    with pytest.raises(ValueError, match="never closed"):
        extract_snippets("<!-- test: setup\nx = 1\n")


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_page_snippets_run(page, tmp_path, monkeypatch):
    snippets = extract_snippets(page.read_text(encoding="utf-8"))
    if not snippets:
        pytest.skip("no Python snippets")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace = {"__name__": "__snippet__"}
    for line, code, _kind in snippets:
        compiled = compile(code, f"{page.relative_to(ROOT)}:{line}", "exec")
        try:
            exec(compiled, namespace)
        except Exception as exc:  # noqa: BLE001 - re-raised with the page and line
            raise AssertionError(
                f"{page.relative_to(ROOT)}, snippet at line {line} failed: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
    assert os.getcwd() == str(tmp_path)


def test_site_builds_without_warnings(tmp_path):
    """The Sphinx site, examples executed, builds with warnings as errors (``[docs]``)."""
    for module in ("sphinx", "pydata_sphinx_theme", "numpydoc", "sphinx_gallery", "myst_parser"):
        pytest.importorskip(module, reason="the [docs] extra is not installed")
    import subprocess
    import sys

    out = tmp_path / "html"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-W",
            "--keep-going",
            "-q",
            "-b",
            "html",
            str(ROOT / "docs"),
            str(out),
            "-d",
            str(tmp_path / "doctrees"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "MPLBACKEND": "Agg", "PYTHONPATH": str(ROOT)},
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    for page in [
        "index",
        "getting_started",
        "user_guide/command_line",
        "api",
        "security",
        "design",
        "benchmarks",
        "auto_examples/index",
    ]:
        assert (out / f"{page}.html").is_file(), page
    assert (out / "generated" / "skmed2vec.TemporalMed2VecEmbedder.html").is_file()
    # Every executed example drew at least one figure.
    for example in sorted((ROOT / "examples").glob("*/plot_*.py")):
        if example.parent.name == "synthea":
            continue  # needs the data; not run in the build (its folder README says so)
        images = list((out / "_images").glob(f"sphx_glr_{example.stem}_*.png"))
        assert images, f"{example.relative_to(ROOT)} drew no figure"


def test_api_reference_lists_every_public_name():
    """Each name in the ``__all__`` of the public modules has its entry in docs/api.rst."""
    import importlib

    text = (ROOT / "docs" / "api.rst").read_text(encoding="utf-8")
    listed = set(re.findall(r"^   (\w+)$", text, re.MULTILINE)) | set(
        re.findall(r"``(\w+)``", text)
    )
    missing = []
    for module in ("skmed2vec", "skmed2vec.datasets", "skmed2vec.evaluation", "skmed2vec.plotting"):
        for name in importlib.import_module(module).__all__:
            if name not in listed:
                missing.append(f"{module}.{name}")
    assert not missing, f"add to docs/api.rst: {missing}"
