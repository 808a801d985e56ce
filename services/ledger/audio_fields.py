"""Where each provider carries audio bytes inside a frame: owned by ``services.providers.frames``.

The sealer keeps audio out of Postgres: every base64 audio field is decoded, its bytes go to a raw
audio segment in S3, and the field is replaced by a reference
``{"$audio": {"sha256", "length", "segment", "offset"}}``. Which fields those are is provider
knowledge, so it is defined once in the providers package; this module keeps the ledger's import
path (and its callers) working.
"""

from __future__ import annotations

from services.providers.frames import (
    AudioField,
    AudioFieldError,
    Path,
    candidate_paths,
    decode_b64,
    find_audio,
    replace_fields,
)

__all__ = ["AudioField", "AudioFieldError", "Path", "candidate_paths", "decode_b64", "find_audio",
           "replace_fields"]
