"""mkdocs hooks for the manual (mkdocs.yml, ``hooks:``).

Why: the docstrings cross-reference in Sphinx's roles (``:func:`name```), which
mkdocstrings shows as written; the API reference shows the name as code instead.
"""

from __future__ import annotations

import re

_ROLE = re.compile(r":(?:func|mod|class|meth|attr|data|exc|obj):(?=<code>)")


def on_page_content(html: str, **_) -> str:
    """Drop the role prefix before a name rendered as code (``:mod:<code>x</code>`` → ``<code>x</code>``)."""
    return _ROLE.sub("", html)
