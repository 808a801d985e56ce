"""Where the Merkle conformance vectors are: VOXLEDGER_CONFORMANCE_DIR, ../shared, or the copy.

``tests/fixtures/merkle-conformance`` is a verbatim copy of ``shared/conformance/merkle``
(transparency-dev/merkle test data, Apache-2.0, LICENSE inside) so a clone anywhere can run them;
the shared folder wins when it is present, so an updated suite is picked up.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def conformance_root() -> Path:
    env = os.environ.get("VOXLEDGER_CONFORMANCE_DIR")
    candidates = [Path(env)] if env else [REPO.parent / "shared/conformance/merkle",
                                          REPO / "tests/fixtures/merkle-conformance"]
    for root in candidates:
        if (root / "testdata").is_dir():
            return root
    raise RuntimeError(f"Merkle conformance vectors not found in {candidates}; "
                       "set VOXLEDGER_CONFORMANCE_DIR")
