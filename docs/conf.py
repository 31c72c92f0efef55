"""Sphinx configuration of the logout-middleware documentation.

Why Sphinx (issue 11, item 7), and not MkDocs with mkdocstrings: the package's
docstrings are reStructuredText with ``:param:`` fields, which autodoc renders as they
are; ``literalinclude`` can show the marked part of each tested example in
``examples/`` (so a page cannot drift from the code the example tests run); and
``-W`` turns every broken reference, include or docstring into a build failure.
MyST (``myst_parser``) renders ``CHANGELOG.md`` on the changelog page, and the three
pages that are mostly wide tables (performance, reliability, comparison), which are
kept in Markdown so that their tables stay readable in the source.

``make docs`` builds the site with warnings as errors; ``make test`` builds it too.
Every code block of every page is run by ``tests/integration/test_docs.py``: see
``development.rst`` for the conventions a new block must follow.
"""

from __future__ import annotations

from typing import Any

project = "logout-middleware"
author = "logout-middleware developers"
copyright = "logout-middleware developers"  # noqa: A001

extensions = [
    "sphinx.ext.autodoc",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build"]
suppress_warnings: list[str] = []

# The reference pages are generated from the docstrings, in source order, with the
# signatures' type hints shown in the parameter lists.
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"show-inheritance": False}
# Headings of the included CHANGELOG.md get anchors, as the reST pages' do.
myst_heading_anchors = 3

html_theme = "alabaster"
html_title = "logout-middleware"
html_theme_options = {
    "description": "A correct, fast, hardened logout for any WSGI application.",
    "fixed_sidebar": False,
}


def _wsgi_middleware_by_default(app: Any) -> None:
    """Two classes are named ``LogoutMiddleware`` (the WSGI one and
    ``logout_middleware.asgi``'s): a bare ``LogoutMiddleware`` in a type hint (the
    return of ``paste.filter_app_factory``) means the WSGI one, as the package's own
    modules mean it, instead of an ambiguous reference."""
    from sphinx import addnodes
    from sphinx.transforms.post_transforms import SphinxPostTransform

    class WSGIFirst(SphinxPostTransform):
        default_priority = 5  # before the references are resolved (10)

        def run(self, **kwargs: Any) -> None:
            for node in self.document.findall(addnodes.pending_xref):
                if node.get("reftarget") == "LogoutMiddleware":
                    node["reftarget"] = "logout_middleware.LogoutMiddleware"

    app.add_post_transform(WSGIFirst)


def setup(app: Any) -> None:
    _wsgi_middleware_by_default(app)
