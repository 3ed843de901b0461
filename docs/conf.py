"""Sphinx configuration of the skmed2vec documentation site.

Build: ``python -m sphinx -W --keep-going -b html docs docs/_build/html``
(``pip install -e ".[docs]"``). The build needs no network: intersphinx is off.
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("MPLBACKEND", "Agg")

import skmed2vec  # noqa: E402

project = "skmed2vec"
author = "the skmed2vec developers"
copyright = "2026, the skmed2vec developers"
release = version = skmed2vec.__version__

extensions = [
    "myst_parser",
    "numpydoc",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx_gallery.gen_gallery",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "**.ipynb_checkpoints"]
templates_path = ["_templates"]

autosummary_generate = True
autodoc_default_options = {"members": True}
numpydoc_show_class_members = False
numpydoc_validation_checks = set()
# Fenced blocks in the Markdown pages are code, not directives, and the headings of a
# page get anchors so that other pages can link to sections.
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence"]

# The examples folder is executed by sphinx-gallery: every ``plot_*.py`` script runs
# during the build except those under ``examples/synthea/``, which need the Synthea
# extract and take minutes; they are shown with their code, and their folder's README
# says that they are not run.
sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"^(?!.*[/\\]synthea[/\\]).*[/\\]plot_",
    "ignore_pattern": r"(__init__|_common)\.py$",
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "matplotlib_animations": False,
    "only_warn_on_example_error": False,
    "default_thumb_file": None,
    "plot_gallery": "True",
}

html_theme = "pydata_sphinx_theme"
html_title = f"skmed2vec {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
}
html_static_path = []
# No network during the build.
intersphinx_mapping = {}
suppress_warnings = ["config.cache"]
