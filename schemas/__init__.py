"""Contracts shared by every Voxledger component.

This package imports nothing from ``services``: it is the vocabulary the recorder, the consumers,
the API and outside gateways agree on.
"""

from schemas.envelope import (
    MAX_ENVELOPE_BYTES,
    SCHEMA_VERSION,
    Direction,
    Envelope,
    EnvelopeError,
    Provider,
    decode_envelope,
    encode_envelope,
    subject_for,
)

__all__ = [
    "MAX_ENVELOPE_BYTES",
    "SCHEMA_VERSION",
    "Direction",
    "Envelope",
    "EnvelopeError",
    "Provider",
    "decode_envelope",
    "encode_envelope",
    "subject_for",
]
