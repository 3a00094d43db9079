"""Ids in S3 keys, SES tags and mail headers: encoded losslessly, so two ids never share a key.

Customer and invoice ids are user data: ``C/1`` and ``C_1``, ``CL.7`` and ``CL_7`` are different
customers. Replacing the characters a key or a tag does not allow (the old ``_`` substitution) made them
collide: two registered letters on one key, a bounce marking the wrong customer. Here every character
outside ``[A-Za-z0-9_-]`` is percent-encoded (``%`` itself included), which is injective and reversible,
and SES tags (whose values allow only ``[A-Za-z0-9_-]``) carry base64url.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Sequence
from urllib.parse import unquote

_KEEP = re.compile(r"[A-Za-z0-9_\-]")
_LIST_SEPARATOR = "~"          # never produced by key_part (``~`` is encoded), so a list splits back exactly
_MAX_LIST = 200                # longer lists of ids in a file name are shortened with a digest


def key_part(value: str) -> str:
    """``value`` as one S3 key segment / header token: ``[A-Za-z0-9_-]`` kept, every other byte ``%XX``.

    No ``/``, no ``.`` (so no ``..``), reversible with :func:`from_key_part`.
    """
    return "".join(ch if _KEEP.fullmatch(ch) else "".join(f"%{b:02X}" for b in ch.encode("utf-8"))
                   for ch in value)


def from_key_part(value: str) -> str:
    """The id :func:`key_part` encoded."""
    return unquote(value, errors="strict")


def key_list(values: Sequence[str]) -> str:
    """Several ids in one key segment, separated by ``~``; past 200 characters, a prefix and a digest.

    The digest keeps distinct lists on distinct keys; the full list is in the object's metadata and the
    print-queue entry.
    """
    joined = _LIST_SEPARATOR.join(key_part(v) for v in values)
    if len(joined) <= _MAX_LIST:
        return joined
    digest = hashlib.sha256("\n".join(values).encode("utf-8")).hexdigest()[:20]
    return f"{joined[:120]}~h{digest}"


def from_key_list(value: str) -> list[str]:
    """The ids :func:`key_list` joined (not for a digested list)."""
    return [from_key_part(v) for v in value.split(_LIST_SEPARATOR)] if value else []


def tag_value(value: str) -> str:
    """An SES message tag value (``[A-Za-z0-9_-]`` only): base64url of the UTF-8, without padding."""
    return base64.urlsafe_b64encode(value.encode("utf-8")).decode("ascii").rstrip("=") or "-"


def from_tag_value(value: str) -> str | None:
    """The id :func:`tag_value` encoded, or None when ``value`` is not one (a foreign or legacy tag)."""
    if not re.fullmatch(r"[A-Za-z0-9_\-]+", value or ""):
        return None
    try:
        decoded = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        text = decoded.decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    return text if tag_value(text) == value else None


def safe_name(value: str, limit: int = 40) -> str:
    """A readable, lossy prefix (``[A-Za-z0-9_-]``) for names that carry a digest for uniqueness."""
    return re.sub(r"[^A-Za-z0-9_\-]", "_", value)[:limit] or "_"
