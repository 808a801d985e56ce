"""JSON-lines logging for ``voxledger run``: one object per line, no personal data.

Messages are the code's own (which never interpolate content, law 7). An exception is logged by
type and the code locations of its traceback only: its message may quote a value (a database
error's DETAIL names the row's key), so it is left out.
"""

from __future__ import annotations

import json
import logging
import os
import traceback
from datetime import UTC, datetime


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            "pid": record.process,
        }
        if record.exc_info and record.exc_info[0] is not None:
            out["exc_type"] = record.exc_info[0].__name__
            out["exc_at"] = [f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} {f.name}"
                             for f in traceback.extract_tb(record.exc_info[2])][-8:]
        return json.dumps(out, ensure_ascii=False)


def configure_logging(level: str, fmt: str) -> None:
    """Root logging for the runner: JSON lines (default) or the human text format."""
    # presidio-evaluator (dev) installs transformers, whose import prints a PyTorch notice past
    # any formatter; nothing here uses transformers' models.
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
