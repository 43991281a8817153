"""Sphinx configuration of skmnist's documentation.

Build the site offline with::

    pip install ".[docs]"
    python -m sphinx -W --keep-going -b html docs docs/_build/html

The gallery runs ``examples/plot_*.py`` on the full MNIST data (as a reader
running them gets it; ``SKMNIST_EXAMPLE_SMALL=1`` in the environment runs
them on a small slice instead), read from ``SKMNIST_DATA`` (default: the
repository's ``../shared/mnist`` when it exists, else the usual data home).
Nothing is fetched from the network: intersphinx reads the inventories of
scikit-learn and Python shipped in ``docs/_intersphinx/`` (see the README
there); Keras and NumPy publish none that can be had offline, so their names
link through ``extlinks`` (``:keras:`` and ``:numpy:`` roles). Measured
figures come from the benchmarks' records in ``benchmarks/results/`` (the
``recorded-figures`` directive of ``docs/_ext``; ``SKMNIST_RESULTS`` reads
them from another directory).
"""

# Authors: The skmnist developers
# SPDX-License-Identifier: BSD-3-Clause

import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
# Document the tree the docs live in, not whatever skmnist is installed.
sys.path.insert(0, str(ROOT))
# recorded_figures: the measured figures' tables, from benchmarks/results/;
# train_presets: skmnist train's recipes, from skmnist/cli/train.py.
sys.path.insert(0, str(DOCS / "_ext"))

# The gallery's examples read these when sphinx-gallery runs them.
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
_shared_mnist = ROOT.parent / "shared" / "mnist"
if "SKMNIST_DATA" not in os.environ and _shared_mnist.is_dir():
    os.environ["SKMNIST_DATA"] = str(_shared_mnist)

import skmnist  # noqa: E402

project = "skmnist"
author = "The skmnist developers"
copyright = "The skmnist developers"
version = release = skmnist.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.intersphinx",
    "sphinx.ext.extlinks",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "recorded_figures",
    "train_presets",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "_intersphinx", "_ext"]
root_doc = "index"

# -- Links to other projects -------------------------------------------------
# Each inventory is read from the repository, never downloaded, so the build
# stays offline; the links point to the projects' current documentation.
_INVENTORIES = DOCS / "_intersphinx"
intersphinx_mapping = {
    "sklearn": ("https://scikit-learn.org/stable/", str(_INVENTORIES / "sklearn.inv")),
    "python": ("https://docs.python.org/3/", str(_INVENTORIES / "python.inv")),
}
# No objects.inv to be had for these two (Keras' site is not built by Sphinx):
# :keras:`Adam <optimizers/adam/>`, :numpy:`ndarray`.
extlinks = {
    "keras": ("https://keras.io/api/%s", "%s"),
    "numpy": (
        "https://numpy.org/doc/stable/reference/generated/numpy.%s.html",
        "numpy.%s",
    ),
}

# -- API reference -----------------------------------------------------------
autosummary_generate = True
autodoc_default_options = {"members": False}
# The autosummary class template lists the methods itself (as scikit-learn's
# does): numpydoc's own member tables would list every inherited scikeras one.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False

# -- Gallery -----------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py",
    "download_all_examples": False,
    "within_subsection_order": "FileNameSortKey",
    "doc_module": ("skmnist",),
    "backreferences_dir": "generated/backreferences",
    "plot_gallery": "True",
    "matplotlib_animations": False,
    "remove_config_comments": True,
    "show_memory": False,
    "abort_on_example_error": True,
}

# -- HTML ----------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"skmnist {release}"
html_static_path = []
html_show_sourcelink = False
html_theme_options = {
    "navbar_align": "left",
    "navigation_with_keys": False,
    "show_prev_next": False,
    "footer_start": ["copyright"],
    "footer_end": [],
    "secondary_sidebar_items": ["page-toc"],
    # No icons or analytics from the network: the site works offline.
    "icon_links": [],
    "header_links_before_dropdown": 7,
}
# Without a default mode, the theme's script logs "Got invalid theme mode" as a
# console error on a reader's first visit (tests/test_docs.py catches it).
html_context = {"default_mode": "light"}
# Every page shows the whole site's navigation, its own section unfolded (the
# theme's default shows only a section's subpages, which left the pages
# without any, such as "Developing skmnist", with an empty sidebar).
html_sidebars = {"**": ["sidebar-site-nav.html"]}
