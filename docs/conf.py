"""Sphinx configuration of the skl0 documentation.

Build (from the repository root; see docs/README.md):

    python -m sphinx -W --keep-going -b html docs docs/_build/html

The figures in docs/_static/ come from docs/make_figures.py; when one is
missing, this file runs that script first, so the one command above is all
a clean checkout needs.
"""

import os
import subprocess
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))  # document the working tree, not an installed copy
os.environ.setdefault("MPLBACKEND", "Agg")

import skl0  # noqa: E402

# -- the figures -----------------------------------------------------------
FIGURES = ("gates_breast_cancer.png", "digits_mask.png", "training_curve.png")
if not all((DOCS / "_static" / name).exists() for name in FIGURES):
    subprocess.run([sys.executable, str(DOCS / "make_figures.py")], check=True)

# -- project -----------------------------------------------------------------
project = "skl0"
author = "the skl0 developers"
copyright = "the skl0 developers, BSD-3-Clause"
release = version = skl0.__version__

# -- extensions ----------------------------------------------------------------
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_parser",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
# README.md tells how to build these pages and is not one of them; files
# starting with "_" are fragments other files include (such as
# _readme_calibration_section.md, a README section).
exclude_patterns = ["_build", "_*", "README.md", "**/.ipynb_checkpoints"]

autosummary_generate = True
autosummary_ignore_module_all = False  # a module's __all__ is its public API
autodoc_default_options = {"members": True, "member-order": "bysource"}
autodoc_typehints = "none"  # numpydoc's "name : type" lines carry the types

numpydoc_show_class_members = False  # the class template lists the methods
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

myst_enable_extensions = ["dollarmath"]
myst_heading_anchors = 3  # links such as (#the-inputs) inside the .md pages

# `name` in docstrings is code, as in scikit-learn's docstrings:
# "ndarray of shape (`n_features_in_`,)".
default_role = "literal"

nitpicky = False  # types in docstrings (ndarray, array-like, ...) are prose


# -- HTML --------------------------------------------------------------------
html_theme = "alabaster"
html_static_path = ["_static"]
html_title = f"skl0 {release}"
html_theme_options = {
    "description": "L0 feature selection with Hard Concrete gates, for scikit-learn",
    "fixed_sidebar": True,
}


def _skip_sklearn_request_methods(app, what, name, obj, skip, options):
    """Skip scikit-learn's generated ``set_{method}_request`` methods.

    scikit-learn attaches them to every estimator whose ``fit`` or ``score``
    takes ``sample_weight``; their docstrings cite scikit-learn's own
    glossary and metadata-routing guide, labels this site does not have.
    """
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


# -- a directive that prints `skl0 ... --help` into the page ----------------
def setup(app):
    import contextlib
    import io

    from docutils import nodes
    from docutils.parsers.rst import Directive

    class Skl0Help(Directive):
        """``.. skl0-help:: select``: the current help text of a command."""

        optional_arguments = 1

        def run(self):
            from skl0.cli import main

            argv = [*self.arguments, "--help"]
            out = io.StringIO()
            os.environ["COLUMNS"] = "88"  # argparse wraps to the terminal width
            with contextlib.redirect_stdout(out):
                main(argv)
            text = f"$ skl0 {' '.join(argv)}\n{out.getvalue()}"
            return [nodes.literal_block(text, text, language="text")]

    app.add_directive("skl0-help", Skl0Help)
    app.connect("autodoc-skip-member", _skip_sklearn_request_methods)
    return {"parallel_read_safe": True}
