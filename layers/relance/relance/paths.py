"""Where the policies and letter templates live: the repository in development, ``/opt`` in Lambda."""

from __future__ import annotations

import os
from pathlib import Path

# layers/relance/relance/paths.py -> repository root
_REPO = Path(__file__).resolve().parents[3]


def _locate(env: str, name: str) -> Path:
    if value := os.environ.get(env):
        return Path(value)
    for candidate in (_REPO / name, Path("/opt") / name):
        if candidate.is_dir():
            return candidate
    return _REPO / name


def policies_dir() -> Path:
    return _locate("RELANCE_POLICIES_DIR", "policies")


def templates_dir() -> Path:
    return _locate("RELANCE_TEMPLATES_DIR", "letter_templates")
