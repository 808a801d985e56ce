"""What ``verify`` found: issues naming tenant, position, session or object, and the totals."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Issue:
    tenant: str
    what: str
    position: int | None = None
    session: str | None = None
    object: str | None = None

    def __str__(self) -> str:
        where = [f"tenant {self.tenant}"]
        if self.position is not None:
            where.append(f"position {self.position}")
        if self.session is not None:
            where.append(f"session {self.session}")
        if self.object is not None:
            where.append(f"object {self.object}")
        return f"{', '.join(where)}: {self.what}"


@dataclass
class Report:
    tenants: int = 0
    entries: int = 0
    sessions: int = 0
    checkpoints: int = 0
    audio_objects: int = 0
    erased_sessions: int = 0
    worm_objects: int = 0
    cosignatures: int = 0
    witnessed_size: int | None = None
    since_size: int | None = None
    entry_seconds: float = 0.0
    trust: str = "local"
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)

    @property
    def entries_per_s(self) -> int:
        """Entries recomputed per second (read, hash, leaf, tree), audio and S3 excluded."""
        return round(self.entries / self.entry_seconds) if self.entry_seconds > 0 else 0

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "tenants": self.tenants, "entries": self.entries,
                "sessions": self.sessions, "checkpoints": self.checkpoints,
                "audio_objects": self.audio_objects, "erased_sessions": self.erased_sessions,
                "worm_objects": self.worm_objects, "cosignatures": self.cosignatures,
                "witnessed_size": self.witnessed_size, "since_size": self.since_size,
                "trust": self.trust, "entries_per_s": self.entries_per_s,
                "errors": [asdict(e) | {"message": str(e)} for e in self.errors],
                "warnings": [asdict(w) | {"message": str(w)} for w in self.warnings]}


@dataclass
class Entries:
    leaves: list[bytes] = field(default_factory=list)
    audio_sha: dict[int, bytes] = field(default_factory=dict)
    seqs: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
