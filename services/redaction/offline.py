"""Keep Presidio and spaCy off the network.

* spaCy models are pip packages pinned in pyproject.toml. Presidio's engine would call
  ``spacy.cli.download`` for a missing model; we refuse first, naming the setting.
* Presidio's email recognizer calls ``tldextract.extract``, whose module-level extractor fetches
  the public suffix list over HTTPS on first use (and then caches it under ~/.cache). We replace
  that extractor with one that reads only the snapshot bundled in the pinned tldextract wheel.
"""

from __future__ import annotations

import threading

from services.redaction.errors import ModelNotInstalled

_lock = threading.Lock()
_patched = False


def use_bundled_suffix_list() -> None:
    global _patched
    with _lock:
        if _patched:
            return
        import tldextract.tldextract as tld

        tld.TLD_EXTRACTOR = tld.TLDExtract(
            suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)
        _patched = True


def require_installed(model_name: str) -> None:
    from pathlib import Path

    import spacy.util

    if not (spacy.util.is_package(model_name) or Path(model_name).exists()):
        raise ModelNotInstalled(
            f"spaCy model {model_name!r} is not installed (VOXLEDGER_SPACY_MODEL); install its "
            "pinned package, it is never downloaded at run time")
