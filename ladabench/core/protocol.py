"""When two metric values are comparable (docs/architecture.md, contract 4): their protocols are
equal in every key except those that cannot change the number (``FREE_KEYS``). The report and
the gate both decide it here."""
from __future__ import annotations

import hashlib
import json
from typing import Any

#: protocol keys that may differ between comparable values: the library version, and how many
#: real images were asked for when the split held fewer (``n_real`` is the count used)
FREE_KEYS = ("library", "n_real_requested")


def comparable_part(protocol: dict[str, Any] | None) -> dict[str, Any]:
    """The keys of ``protocol`` that two comparable values must share."""
    return {k: v for k, v in (protocol or {}).items() if k not in FREE_KEYS}


def protocol_id(protocol: dict[str, Any] | None) -> str:
    """Short id of a protocol: values are comparable only when their ids are equal."""
    if not protocol:
        return "unknown"
    blob = json.dumps(comparable_part(protocol), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:8]


def differing_keys(a: dict[str, Any] | None, b: dict[str, Any] | None) -> list[str]:
    """The keys (sorted) in which two protocols differ in a way that changes the number."""
    ca, cb = comparable_part(a), comparable_part(b)
    return sorted(k for k in set(ca) | set(cb) if ca.get(k) != cb.get(k))
