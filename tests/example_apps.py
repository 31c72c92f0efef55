"""Where the runnable examples live, and how the tests import them.

The examples are plain files in ``examples/`` (not a package), run the way their
docstrings say: ``gunicorn --chdir examples demo:app`` and so on. The tests put that
directory on ``sys.path`` so that ``import demo`` works the same way.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
ARTIFACTS = ROOT / "test-artifacts"


def import_example(name: str) -> ModuleType:
    """Import ``examples/<name>.py`` (or a package) as the module ``name``."""
    if str(EXAMPLES) not in sys.path:
        sys.path.insert(0, str(EXAMPLES))
    return importlib.import_module(name)
