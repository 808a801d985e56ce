"""Errors of the redaction capability.

RedactionError
├── ModelNotInstalled   the configured spaCy model package is missing (never downloaded)
└── BadInput            input that cannot be redacted (e.g. not UTF-8); the CLI exits 2
"""

from __future__ import annotations


class RedactionError(Exception):
    """Base of every redaction error."""


class ModelNotInstalled(RedactionError):
    pass


class BadInput(RedactionError):
    pass
