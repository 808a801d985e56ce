"""Train the Zstandard dictionary sealed payloads are compressed with (``services/ledger/payloads.py``).

    .venv/bin/python bench/build_payload_dictionary.py [--seeds 12] [--size 16384] [--id 0x766c0001]

Samples are the exact plaintexts the sealer stores: simulated calls of every provider profile
(``services/simulator``), stamped as envelopes under random tenant and session ids and run through
the sealer's own ``plan_batch`` (audio moved out, ``$audio`` references in), in batches of the
size a live sealer sees. Held-out calls (other seeds) then give the compression the dictionary
achieves on calls it was not trained on; that is printed with the dictionary's size.

A dictionary, once entries were sealed with it, is never replaced: a new one gets a new id
(``--id``), ``CURRENT_DICTIONARY`` moves to it, and the old file stays for reading.
"""

from __future__ import annotations

import argparse
import secrets
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import zstandard

from schemas.envelope import Direction, Envelope
from services.ledger import payloads
from services.ledger.sealing import Fresh, payload_aad, plan_batch
from services.platform.keys import new_dek
from services.providers.frames import frame_type
from services.simulator.frames import Frame
from services.simulator.providers import PROFILES
from services.simulator.run import plan, started_for
from services.simulator.script import build_script

BATCH = 200  # frames per sealer batch (a live sealer sees 50-500)


def session_payloads(profile_name: str, seed: int) -> list[bytes]:
    """The stored plaintexts of one simulated call, under fresh random ids."""
    profile = PROFILES[profile_name]
    tenant, session = f"t-{secrets.token_hex(4)}", f"call-{secrets.token_hex(6)}"
    script = build_script(f"{profile_name}:{seed}:0")
    t0 = datetime.now(UTC)
    started = Frame(0, "system", started_for(profile, script).model_dump(mode="json"), None,
                    "session.started")
    envs = [Envelope(
        event_id=f"{secrets.token_hex(4)}-0000-7000-8000-{secrets.token_hex(6)}",
        tenant_id=tenant, session_id=session, seq=seq, provider=f.provider or profile.provider,
        direction=Direction(f.direction),
        type=f.type_ or frame_type(f.provider or profile.provider, f.payload),
        recorded_at=t0 + timedelta(milliseconds=f.at_ms), mono_ns=int(f.at_ms * 1e6),
        payload=f.payload) for seq, f in enumerate([started, *plan(profile_name, script)])]
    dek = new_dek()
    out: list[bytes] = []
    for start in range(0, len(envs), BATCH):
        fresh = [Fresh(start + i, f"voice.{tenant}.{session}.x", e)
                 for i, e in enumerate(envs[start:start + BATCH])]
        batch = plan_batch(tenant, fresh, start, {session: dek}, {}, lambda n: "i")
        out += [payloads.open_payload(dek, e["payload_ct"],
                                      payload_aad(tenant, session, e["event_id"]))
                for e in batch.entries]
    return out


def samples(seeds: range) -> list[bytes]:
    return [p for seed in seeds for name in sorted(PROFILES) for p in session_payloads(name, seed)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=12, help="training calls per provider profile")
    ap.add_argument("--size", type=int, default=16384, help="dictionary size in bytes")
    ap.add_argument("--id", type=lambda s: int(s, 0), default=payloads.CURRENT_DICTIONARY)
    args = ap.parse_args()
    # Samples are what the sealer would store without compression: train on the plain JSON.
    payloads.pack = lambda plain: plain  # type: ignore[assignment]
    train = samples(range(1, args.seeds + 1))
    held_out = samples(range(1000, 1004))
    d = zstandard.train_dictionary(args.size, train, dict_id=args.id, level=payloads.LEVEL)
    path = payloads.dictionary_path(args.id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(d.as_bytes())
    c = zstandard.ZstdCompressor(level=payloads.LEVEL, dict_data=d, write_content_size=True,
                                 write_checksum=False, write_dict_id=True)
    plain = sum(len(p) for p in held_out)
    packed = sum(min(len(c.compress(p)), len(p)) for p in held_out)
    bare = zstandard.ZstdCompressor(level=payloads.LEVEL, write_content_size=True)
    alone = sum(min(len(bare.compress(p)), len(p)) for p in held_out)
    print(f"{path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}: "
          f"{len(d.as_bytes())} bytes, id {args.id:#x}, {len(train)} training payloads")
    print(f"held out ({len(held_out)} payloads): {plain / len(held_out):.0f} bytes plain, "
          f"{alone / len(held_out):.0f} zstd alone, {packed / len(held_out):.0f} with the "
          f"dictionary ({plain / packed:.2f}x)")


if __name__ == "__main__":
    main()
