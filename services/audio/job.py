"""One session's recording in progress: renderer + two sinks + their uploads (blocking; threads).

The same class serves the live consumer, a consumer resuming after a crash, and the rebuild:
they differ only in the uploads they are given and the parts already stored. Resuming replays the
session from the ledger through the same renderer; the parts it regenerates are compared with the
MD5s recorded when they were first stored (deterministic encryption, see ``crypto.py``) instead of
being uploaded again, then uploading carries on. A mismatch means the projection is not
deterministic, and the upload is abandoned rather than completed with mixed content.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from services.audio.codec import is_flac
from services.audio.recording import MIN_PART, Part, RecordingSink
from services.audio.render import HEARD, LAYOUT, UNHEARD, Rendered, SessionRenderer
from services.audio.source import SegmentReader, decode, segment_refs, to_event


class RecordingDiverged(Exception):
    """A regenerated part differs from the one stored before the crash (names the part only)."""


class UploadPort(Protocol):
    def put(self, key: str, upload_id: str, part: Part) -> dict[str, Any]: ...
    def complete(self, key: str, upload_id: str, parts: list[dict[str, Any]]) -> None: ...


class NoUploads:
    """The rebuild's port: parts are produced (and hashed) but stored nowhere."""

    def put(self, key: str, upload_id: str, part: Part) -> dict[str, Any]:
        return {"n": part.number, "etag": part.etag, "md5": part.md5}

    def complete(self, key: str, upload_id: str, parts: list[dict[str, Any]]) -> None:
        return None


@dataclass
class KindState:
    kind: str
    key: str
    upload_id: str
    sink: RecordingSink
    parts: list[dict[str, Any]] = field(default_factory=list)  # stored so far, in order
    stored_before: int = 0  # parts stored before this process started (to verify, not upload)
    uploaded: int = 0  # parts sent by this process (per kind: finish_kind runs in threads)
    verified: int = 0  # parts regenerated and matched after a resume


def context_for(tenant: str, session: str, kind: str) -> bytes:
    return f"{tenant}/{session}/{kind}".encode()


class SessionJob:
    def __init__(self, tenant: str, session: str, dek: bytes, rate: int, segments: SegmentReader,
                 uploads: UploadPort, states: dict[str, tuple[str, str, bytes, list[dict[str, Any]]]],
                 part_size: int = MIN_PART) -> None:
        """``states``: kind → (object key, upload id, salt, parts already stored)."""
        self.tenant, self.session, self.dek = tenant, session, dek
        self.segments, self.uploads = segments, uploads
        self.cipher = AESGCM(dek)  # the entries' payloads are decrypted with it
        self.renderer = SessionRenderer(rate)
        self.kinds: dict[str, KindState] = {}
        for kind, (key, upload_id, salt, parts) in states.items():
            sink = RecordingSink(dek, salt, context_for(tenant, session, kind), rate,
                                 len(LAYOUT[kind]), part_size=part_size, flac=is_flac(key))
            self.kinds[kind] = KindState(kind, key, upload_id, sink, list(parts), len(parts))
        # Parts of each kind whose list is stored in audio_recordings (the consumer writes the
        # list again only when a part was added).
        self.persisted = {kind: len(st.parts) for kind, st in self.kinds.items()}
        self.persisted_seq = -1  # the last_seq stored with them (see AudioRecorder.poll)

    @property
    def last_seq(self) -> int:
        return self.renderer.last_seq

    @property
    def uploaded(self) -> int:
        """Parts sent by this process."""
        return sum(st.uploaded for st in self.kinds.values())

    @property
    def verified(self) -> int:
        """Parts regenerated and matched after a resume."""
        return sum(st.verified for st in self.kinds.values())

    def process(self, rows: Sequence[Any]) -> None:
        decoded = [decode(row, self.tenant, self.session, self.cipher) for row in rows]
        self.segments.prefetch(segment_refs(decoded))
        for row, entry in zip(rows, decoded, strict=True):
            event, audio = to_event(row, self.tenant, self.session, self.cipher, self.segments,
                                    entry)
            self._write(self.renderer.feed(event, audio))

    def finish(self) -> dict[str, dict[str, Any]]:
        self.finish_render()
        return {kind: self.finish_kind(kind) for kind in self.kinds}

    def finish_render(self) -> None:
        """The rest of the session's audio into the sinks (before :meth:`finish_kind`)."""
        self._write(self.renderer.finish())

    def finish_kind(self, kind: str) -> dict[str, Any]:
        """One recording's last parts stored and its upload completed; its row's values. The
        kinds share nothing from here, so their round trips may overlap (one thread each)."""
        st = self.kinds[kind]
        self._store(st, st.sink.finish())
        self.uploads.complete(st.key, st.upload_id, st.parts)
        return {
            "duration_ms": st.sink.duration_ms, "pcm_bytes": st.sink.pcm_bytes,
            "object_bytes": st.sink.object_bytes, "sha256": st.sink.object_sha256,
            "pcm_sha256": st.sink.pcm_sha256, "gaps": self.renderer.gaps(),
            "last_seq": self.renderer.last_seq, "parts": st.parts,
        }

    def _write(self, rendered: Rendered) -> None:
        if not rendered.heard and not rendered.unheard:
            return  # most entries release no block (see render.TAKE_MS)
        for kind, pcm in ((HEARD, rendered.heard), (UNHEARD, rendered.unheard)):
            st = self.kinds.get(kind)
            if st is not None and pcm:
                self._store(st, st.sink.write(pcm))

    def _store(self, st: KindState, parts: list[Part]) -> None:
        for part in parts:
            if part.number <= st.stored_before:
                if st.parts[part.number - 1]["md5"] != part.md5:
                    raise RecordingDiverged(f"{st.kind} part {part.number} differs on replay")
                st.verified += 1
                continue
            st.parts.append(self.uploads.put(st.key, st.upload_id, part))
            st.uploaded += 1
