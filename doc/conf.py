"""Sphinx configuration for the skreg documentation.

Build with ``make doc`` (warnings are errors). Nothing is downloaded: there
is no intersphinx mapping and the theme is Sphinx's built-in alabaster.
"""

import re

import skreg

project = "skreg"
author = "The skreg developers"
copyright = "The skreg developers"
version = skreg.__version__
release = skreg.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
]

# Stub pages of the API reference go to doc/generated/ (git-ignored).
autosummary_generate = True
autodoc_default_options = {"members": True}

# numpydoc renders the sections; autosummary already lists the members.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_validation_checks = set()
# Without intersphinx, links into NumPy/Python docs cannot resolve: keep
# parameter types as plain text.
numpydoc_xref_param_type = False

templates_path = []
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
source_suffix = {".rst": "restructuredtext"}
root_doc = "index"
default_role = "literal"

html_theme = "alabaster"
html_title = f"skreg {release}"
html_static_path = []


def _skip_inherited(app, what, name, obj, skip, options):
    """Document only the members skreg defines.

    Members inherited from scikit-learn (``score``, ``get_params``,
    ``set_params``, the ``set_*_request`` metadata-routing methods) carry
    references into scikit-learn's own documentation, which cannot resolve
    here. autosummary's member tables go through the same event.
    """
    module = getattr(obj, "__module__", None)
    if isinstance(module, str) and not module.startswith("skreg"):
        return True
    return None  # let autodoc/autosummary decide (private names etc.)


# In a numpydoc "name : type" line, a bare name with a trailing underscore,
# as in ``ndarray of shape (n_features_in_,)``, is a reST hyperlink reference
# ("Unknown target name"). Quote such names before numpydoc parses the
# docstring (priority < 500 runs first). Docstrings should write
# ``(`n_features_in_`,)`` as scikit-learn does; this is only a safety net.
_TYPE_LINE = re.compile(r"^(\s*\*{0,2}\w+(?:, \w+)* : )(.+)$")
_TRAILING_UNDERSCORE = re.compile(r"(?<![`\w])([A-Za-z]\w*_)(?![`\w])")


def _quote_underscore_names(app, what, name, obj, options, lines):
    for i, line in enumerate(lines):
        match = _TYPE_LINE.match(line)
        if match:
            head, spec = match.groups()
            lines[i] = head + _TRAILING_UNDERSCORE.sub(r"`\1`", spec)


def setup(app):
    app.connect("autodoc-process-docstring", _quote_underscore_names, priority=400)
    app.connect("autodoc-skip-member", _skip_inherited)
