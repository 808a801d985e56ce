#!/usr/bin/env python3
"""Standalone verifier of a Voxledger session evidence bundle. Needs Python 3.10+ and
``cryptography``, and for raw audio and payloads sealed compressed (since issue 13) a Zstandard
decoder: the standard library's ``compression.zstd`` (Python 3.14+) or the ``zstandard`` package
(payloads use a dictionary the bundle ships under ``codecs/``), and ``soundfile`` for raw audio
parts sealed as FLAC. Reads
nothing but the bundle (and, optionally, keys you pin).

    python verify_bundle.py bundle.zip [--trusted-key FILE] [--policy FILE] [--json]

Checks, printing each: every file's SHA-256 against manifest.json (and the manifest's own digest);
the signed checkpoint (Ed25519, C2SP signed note) against the log key; every event's Merkle leaf
recomputed from its fields (RFC 9162) and its inclusion proof against that checkpoint; the payload
ciphertext's hash against the leaf and, unless the session was erased, its AES-256-GCM decryption
under the session data key against the decrypted envelope; every raw audio segment's decryption
and each event's audio bytes against the leaf; the consistency proof from the checkpoint to the
newest WORM checkpoint; witness cosignatures (C2SP cosignature/v1) and the tlog-policy quorum.
Exit 0 only when everything holds; 1 naming each bad file; 2 when the bundle cannot be read.

By default the log and witness keys come from the bundle's keys/ folder: compare their key IDs
(printed) with keys published independently, or pin them with --trusted-key / --policy.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import struct
import sys
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

FORMAT = "voxledger-evidence-bundle/1"
LEAF_PREFIX = b"voxledger.leaf.v1\n"
LEAF_FIELDS = {"audio_sha256", "direction", "event_id", "mono_ns", "payload_sha256", "position",
               "provider", "recorded_at", "schema_version", "seq", "session_id", "tenant_id",
               "type"}
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
SIG_PREFIX = "\u2014 "


class Bad(Exception):
    """One failed check; ``path`` is the bundle file it concerns."""

    def __init__(self, path: str, why: str) -> None:
        super().__init__(f"{path}: {why}")
        self.path, self.why = path, why


@dataclass
class Result:
    checked: list[str] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failures

    def run(self, check: Callable[[], str | None]) -> None:
        try:
            what = check()
        except Bad as exc:
            self.failures.append((exc.path, exc.why))
        else:
            if what:
                self.checked.append(what)


# --- RFC 9162 Merkle proofs ----------------------------------------------------------------------

def node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_from_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    if not 0 <= index < size or len(leaf) != 32 or any(len(p) != 32 for p in proof):
        raise ValueError("malformed inclusion proof")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ValueError("inclusion proof too long")
        if fn & 1 or fn == sn:
            r = node(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ValueError("inclusion proof too short")
    return r


def verify_consistency(size1: int, size2: int, root1: bytes, root2: bytes,
                       proof: Sequence[bytes]) -> None:
    if size1 > size2 or size1 == 0 or any(len(p) != 32 for p in proof):
        raise ValueError("malformed consistency proof")
    if size1 == size2:
        if proof or root1 != root2:
            raise ValueError("equal sizes need an empty proof and equal roots")
        return
    if not proof:
        raise ValueError("empty consistency proof")
    path = list(proof)
    if size1 & (size1 - 1) == 0:
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ValueError("consistency proof too long")
        if fn & 1 or fn == sn:
            fr, sr = node(c, fr), node(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0 or fr != root1 or sr != root2:
        raise ValueError("consistency proof does not lead to both roots")


# --- C2SP signed notes, checkpoints, cosignatures, policy ------------------------------------

@dataclass(frozen=True)
class Key:
    name: str
    key_id: bytes
    public: bytes
    alg: int


def parse_vkey(vkey: str) -> Key:
    name, hex_id, b64 = vkey.strip().split("+", 2)
    raw = base64.b64decode(b64, validate=True)
    if len(raw) != 33 or raw[0] not in (0x01, 0x04):
        raise ValueError("vkey must be an Ed25519 log (0x01) or cosigner (0x04) key")
    key_id = hashlib.sha256(name.encode() + b"\n" + raw[:1] + raw[1:]).digest()[:4]
    if key_id.hex() != hex_id:
        raise ValueError(f"vkey {name}: key id does not match")
    return Key(name, key_id, raw[1:], raw[0])


def split_note(note: str) -> tuple[str, list[tuple[str, bytes, bytes]]]:
    cut = note.rfind("\n\n")
    if cut < 0 or not note.endswith("\n"):
        raise ValueError("not a signed note")
    sigs = []
    for line in note[cut + 2:-1].split("\n"):
        if not line.startswith(SIG_PREFIX) or len(line.split(" ")) != 3:
            raise ValueError("malformed signature line")
        _, name, b64 = line.split(" ")
        blob = base64.b64decode(b64, validate=True)
        sigs.append((name, blob[:4], blob[4:]))
    return note[:cut + 1], sigs


def _ed25519_ok(public: bytes, sig: bytes, msg: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(sig, msg)
    except (InvalidSignature, ValueError):
        return False
    return True


def open_checkpoint(note: str, logs: list[Key], path: str) -> tuple[str, int, bytes, str]:
    """(origin, size, root, signer key id) when a trusted log key signed ``note``."""
    try:
        text, sigs = split_note(note)
    except ValueError as exc:
        raise Bad(path, str(exc)) from None
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise Bad(path, "not a checkpoint")
    origin, size, root = lines[0], int(lines[1]), base64.b64decode(lines[2])
    for key in logs:
        if key.alg != 0x01 or key.name != origin:
            continue
        for name, kid, sig in sigs:
            if (name, kid) == (key.name, key.key_id):
                if not _ed25519_ok(key.public, sig, text.encode()):
                    raise Bad(path, f"log signature by {name} does not verify")
                return origin, size, root, kid.hex()
    raise Bad(path, f"no signature by a trusted key of log {origin}")


def cosigners(note: str, witnesses: dict[str, Key]) -> dict[str, int]:
    text, sigs = split_note(note)
    out = {}
    for label, key in witnesses.items():
        for name, kid, blob in sigs:
            if (name, kid) == (key.name, key.key_id) and len(blob) == 72:
                (ts,) = struct.unpack(">Q", blob[:8])
                msg = f"cosignature/v1\ntime {ts}\n".encode() + text.encode()
                if _ed25519_ok(key.public, blob[8:], msg):
                    out[label] = ts
    return out


def parse_policy(text: str) -> tuple[list[Key], dict[str, Key], Callable[[set[str]], bool]]:
    logs: list[Key] = []
    witnesses: dict[str, Key] = {}
    groups: dict[str, tuple[int, list[str]]] = {}
    quorum = None
    for raw in text.split("\n"):
        w = raw.split()
        if not w or w[0].startswith("#"):
            continue
        if w[0] == "log":
            logs.append(parse_vkey(w[1]))
        elif w[0] == "witness":
            witnesses[w[1]] = parse_vkey(w[2])
        elif w[0] == "group":
            members = w[3:]
            k = {"all": len(members), "any": 1}.get(w[2]) or int(w[2])
            groups[w[1]] = (k, members)
        elif w[0] == "quorum":
            quorum = w[1]
    if quorum is None:
        raise ValueError("policy has no quorum line")

    def met(names: set[str], name: str | None = None) -> bool:
        name = quorum if name is None else name
        if name == "none":
            return True
        if name in witnesses:
            return name in names
        k, members = groups[name]
        return sum(met(names, m) for m in members) >= k

    return logs, witnesses, met


# --- the bundle ------------------------------------------------------------------------------

def canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def manifest_digest(manifest: dict[str, Any]) -> str:
    return hashlib.sha256(canonical({k: v for k, v in manifest.items()
                                     if k != "manifest_sha256"})).hexdigest()


def read_bundle(path: str) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist() if not i.is_dir()}


def _json(files: dict[str, bytes], path: str) -> Any:
    try:
        return json.loads(files[path])
    except KeyError:
        raise Bad(path, "missing from the bundle") from None
    except ValueError:
        raise Bad(path, "not valid JSON") from None


def _b64(value: Any, path: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (ValueError, TypeError):
        raise Bad(path, "malformed base64 value") from None


def verify(files: dict[str, bytes], trusted_key: str | None = None,
           policy_text: str | None = None) -> Result:
    res = Result()
    manifest = _check_manifest(files, res)
    if manifest is None:
        return res
    res.facts.update({k: manifest.get(k) for k in ("tenant", "session", "erased", "hold",
                                                     "created_at", "reason", "tool_version")})
    logs, witnesses, met = _keys(files, trusted_key, policy_text, res)
    anchor = _check_checkpoints(files, logs, witnesses, met, res)
    if anchor is None:
        return res
    entries = _check_events(files, manifest, anchor, res)
    if entries is not None and not manifest.get("erased"):
        res.run(lambda: _check_audio(files, manifest, entries))
    res.run(lambda: _check_custody(files, manifest))
    return res


def _check_manifest(files: dict[str, bytes], res: Result) -> dict[str, Any] | None:
    try:
        manifest = _json(files, "manifest.json")
        if manifest.get("format") != FORMAT:
            raise Bad("manifest.json", f"not a {FORMAT} manifest")
        if manifest.get("manifest_sha256") != manifest_digest(manifest):
            raise Bad("manifest.json", "the manifest's own digest does not match its content")
    except Bad as exc:
        res.failures.append((exc.path, exc.why))
        return None
    listed = manifest.get("files", {})
    for path in sorted(set(listed) | set(files)):
        if path == "manifest.json":
            continue
        if path not in files:
            res.failures.append((path, "listed in the manifest but missing"))
        elif path not in listed:
            res.failures.append((path, "in the bundle but not in the manifest"))
        elif hashlib.sha256(files[path]).hexdigest() != listed[path].get("sha256"):
            res.failures.append((path, "SHA-256 differs from the manifest (file altered)"))
    res.checked.append(f"manifest: {len(listed)} file(s), SHA-256 of each and of the manifest")
    return dict(manifest)


def _keys(files: dict[str, bytes], trusted_key: str | None, policy_text: str | None,
          res: Result) -> tuple[list[Key], dict[str, Key], Callable[[set[str]], bool]]:
    source = "keys/ in the bundle"
    text = policy_text or files.get("keys/policy.txt", b"").decode()
    logs, witnesses, met = parse_policy(text or "quorum none\n")
    if trusted_key is not None:
        source = "pinned keys"
        logs = [k for k in (parse_vkey(line) for line in trusted_key.splitlines()
                            if line.strip() and not line.startswith("#")) if k.alg == 0x01]
    elif policy_text is not None:
        source = "pinned policy"
    res.facts["key_source"] = source
    res.facts["log_keys"] = [f"{k.name}+{k.key_id.hex()}" for k in logs]
    res.facts["witness_keys"] = [f"{k.name}+{k.key_id.hex()}" for k in witnesses.values()]
    return logs, witnesses, met


def _check_checkpoints(files: dict[str, bytes], logs: list[Key], witnesses: dict[str, Key],
                       met: Callable[[set[str]], bool], res: Result) -> tuple[int, bytes] | None:
    path = "proofs/checkpoint.note"
    try:
        origin, size, root, kid = open_checkpoint(files.get(path, b"").decode(), logs, path)
    except Bad as exc:
        res.failures.append((exc.path, exc.why))
        return None
    res.facts.update(origin=origin, checkpoint_size=size, checkpoint_root=root.hex())
    res.checked.append(f"checkpoint {origin} size {size}: Ed25519 signature by key {kid}")
    cosigned: set[str] = set()

    def newest() -> str:
        npath = "proofs/newest.note"
        _, size2, root2, _ = open_checkpoint(files[npath].decode(), logs, npath)
        cons = _json(files, "proofs/consistency.json")
        try:
            verify_consistency(size, size2, root, root2,
                               [_b64(h, "proofs/consistency.json") for h in cons["proof"]])
        except (ValueError, KeyError) as exc:
            raise Bad("proofs/consistency.json", str(exc)) from None
        res.facts["newest_size"] = size2
        return f"consistency: checkpoint {size} is a prefix of the newest WORM checkpoint {size2}"

    res.run(newest)
    for path in sorted(p for p in files if p.startswith("proofs/cosigned/")):
        def one(path: str = path) -> str:
            note = files[path].decode()
            _, csize, croot, _ = open_checkpoint(note, logs, path)
            names = set(cosigners(note, witnesses))
            if csize >= size and csize == size and croot != root:
                raise Bad(path, "cosigned checkpoint disagrees with the bundle's checkpoint")
            if csize == size or csize == res.facts.get("newest_size"):
                cosigned.update(names)
            return f"cosigned checkpoint {csize}: valid cosignatures by {sorted(names) or 'none'}"
        res.run(one)

    def quorum() -> str:
        if not met(cosigned):
            raise Bad("keys/policy.txt", "witness cosignatures do not meet the policy quorum")
        return f"witness policy quorum met (cosigners: {sorted(cosigned) or 'none required'})"

    res.run(quorum)
    return size, root


def _check_events(files: dict[str, bytes], manifest: dict[str, Any], anchor: tuple[int, bytes],
                  res: Result) -> dict[int, dict[str, Any]] | None:
    size, root = anchor
    proofs = _json_or_fail(files, "proofs/inclusion.json", res)
    if proofs is None or "events.jsonl" not in files:
        res.failures.append(("events.jsonl", "missing"))
        return None
    by_pos = {int(p["position"]): p for p in proofs.get("entries", [])}
    dek = None
    if not manifest.get("erased"):
        key = _json_or_fail(files, "keys/session_data_key.json", res)
        dek = _b64(key["dek"], "keys/session_data_key.json") if key else None
    out: dict[int, dict[str, Any]] = {}
    try:
        dictionaries = _dictionaries(files)
    except ValueError:
        res.failures.append(("codecs/", "a payload dictionary's file name is not "
                             "payload-<8 hex digits>.dict"))
        return None
    try:
        for n, line in enumerate(files["events.jsonl"].decode().splitlines(), 1):
            ev = json.loads(line)
            _check_event(ev, n, by_pos, size, root, dek, manifest, dictionaries)
            out[int(ev["leaf"]["position"])] = ev
    except Bad as exc:
        res.failures.append((exc.path, exc.why))
        return None
    except (ValueError, KeyError, TypeError) as exc:
        res.failures.append(("events.jsonl", f"malformed event line ({exc})"))
        return None
    if set(out) != set(by_pos):
        res.failures.append(("proofs/inclusion.json", "proofs and events cover other positions"))
    what = ("leaf recomputed, inclusion proof, payload hash"
            + ("" if manifest.get("erased") else ", decryption matches the envelope"))
    res.checked.append(f"events: {len(out)} entries ({what})")
    return out


def _json_or_fail(files: dict[str, bytes], path: str, res: Result) -> Any:
    try:
        return _json(files, path)
    except Bad as exc:
        res.failures.append((exc.path, exc.why))
        return None


def _check_event(ev: dict[str, Any], n: int, by_pos: dict[int, dict[str, Any]], size: int,
                 root: bytes, dek: bytes | None, manifest: dict[str, Any],
                 dictionaries: dict[int, bytes]) -> None:
    where = f"events.jsonl line {n}"
    leaf = ev["leaf"]
    if set(leaf) != LEAF_FIELDS or leaf["tenant_id"] != manifest["tenant"] \
            or leaf["session_id"] != manifest["session"]:
        raise Bad("events.jsonl", f"{where}: leaf fields are not this session's")
    pos = int(leaf["position"])
    lh = hashlib.sha256(b"\x00" + LEAF_PREFIX + canonical(leaf)).digest()
    proof = by_pos.get(pos)
    if proof is None:
        raise Bad("proofs/inclusion.json", f"no inclusion proof for position {pos}")
    try:
        got = root_from_inclusion(pos, size, lh, [base64.b64decode(h) for h in proof["proof"]])
    except ValueError as exc:
        raise Bad("proofs/inclusion.json", f"position {pos}: {exc}") from None
    if got != root:
        raise Bad("events.jsonl", f"{where}: entry {pos} is not the one the checkpoint commits "
                  "to (leaf or proof altered)")
    ct = _b64(ev["payload_ct"], "events.jsonl")
    if hashlib.sha256(ct).hexdigest() != leaf["payload_sha256"]:
        raise Bad("events.jsonl", f"{where}: payload ciphertext does not match the leaf")
    if dek is None:
        if ev.get("envelope") is not None:
            raise Bad("events.jsonl", f"{where}: an erased session's bundle holds plaintext")
        return
    aad = f"voxledger/payload/v1/{leaf['tenant_id']}/{leaf['session_id']}/{leaf['event_id']}"
    try:
        plain = AESGCM(dek).decrypt(ct[:12], ct[12:], aad.encode())
    except InvalidTag:
        raise Bad("keys/session_data_key.json", f"{where}: payload does not decrypt under the "
                  "session data key") from None
    if plain.startswith(ZSTD_MAGIC):
        plain = _unpack_payload(where, plain, dictionaries)
    env = ev.get("envelope") or {}
    if json.loads(plain) != env.get("payload") or any(
            env.get(k) != leaf[k] for k in ("event_id", "seq", "type", "direction", "provider")):
        raise Bad("events.jsonl", f"{where}: decrypted payload differs from the envelope shown")


def _check_audio(files: dict[str, bytes], manifest: dict[str, Any],
                 entries: dict[int, dict[str, Any]]) -> str:
    index = _json(files, "audio/segments/index.json")
    key = _json(files, "keys/session_data_key.json")
    dek = _b64(key["dek"], "keys/session_data_key.json")
    plain: dict[str, bytes] = {}
    for seg in index.get("segments", []):
        path = seg["file"]
        aad = f"voxledger/audio/v1/{manifest['tenant']}/{manifest['session']}/{seg['key']}"
        blob = files.get(path)
        if blob is None:
            raise Bad(path, "segment missing")
        try:
            audio = AESGCM(dek).decrypt(blob[:12], blob[12:], aad.encode())
        except InvalidTag:
            raise Bad(path, "segment does not decrypt (altered)") from None
        if seg.get("codec") is not None:
            audio = _decompress(path, seg["codec"], audio, int(seg["length"]))
        plain[seg["key"]] = audio
    refs: dict[int, list[dict[str, Any]]] = {}
    for r in index.get("refs", []):
        refs.setdefault(int(r["position"]), []).append(r)
    with_audio = 0
    for pos, ev in entries.items():
        want = ev["leaf"]["audio_sha256"]
        h = hashlib.sha256()
        for r in sorted(refs.get(pos, []), key=lambda r: int(r["ordinal"])):
            data = plain.get(r["segment"])
            if data is None:
                raise Bad("audio/segments/index.json", f"position {pos}: unknown segment")
            h.update(data[int(r["offset"]):int(r["offset"]) + int(r["length"])])
        if (h.hexdigest() if pos in refs else EMPTY_SHA256) != want:
            raise Bad("audio/segments/index.json", f"position {pos}: audio bytes do not match "
                      "the hash in the leaf")
        with_audio += pos in refs
    return (f"raw audio: {len(plain)} segment(s) decrypt; {with_audio} entries' audio bytes match "
            "their leaves")


ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
MAX_PAYLOAD = 1024 * 1024  # an envelope's bound (schemas/envelope.py MAX_ENVELOPE_BYTES)


def _dictionaries(files: dict[str, bytes]) -> dict[int, bytes]:
    """The payload dictionaries a bundle ships, by the id in their file name."""
    out: dict[int, bytes] = {}
    for name, data in files.items():
        if name.startswith("codecs/payload-") and name.endswith(".dict"):
            out[int(name[len("codecs/payload-"):-len(".dict")], 16)] = data
    return out


def _unpack_payload(where: str, data: bytes, dictionaries: dict[int, bytes]) -> bytes:
    """A compressed payload's canonical JSON: a Zstandard frame with a shipped dictionary."""
    try:
        from compression import zstd  # Python 3.14+

        def header() -> tuple[int | None, int]:
            info = zstd.get_frame_info(data)
            return info.decompressed_size, info.dictionary_id

        def decode(d: bytes) -> bytes:
            return bytes(zstd.ZstdDecompressor(zstd.ZstdDict(d)).decompress(
                data, max_length=MAX_PAYLOAD + 1))
    except ImportError:
        try:
            import zstandard
        except ImportError:
            raise Bad("events.jsonl", "cannot check: payloads are Zstandard-compressed; install "
                      "the `zstandard` package (or use Python 3.14+)") from None

        def header() -> tuple[int | None, int]:
            params = zstandard.get_frame_parameters(data)
            return params.content_size, params.dict_id

        def decode(d: bytes) -> bytes:
            return bytes(zstandard.ZstdDecompressor(
                dict_data=zstandard.ZstdCompressionDict(d)).decompress(
                data, max_output_size=MAX_PAYLOAD))
    try:
        size, dict_id = header()
    except Exception:  # either library's error type: a cut or changed frame header
        raise Bad("events.jsonl", f"{where}: compressed payload has no valid frame header"
                  ) from None
    if size is None or size > MAX_PAYLOAD:  # unknown sizes are refused, as the sealer never
        raise Bad("events.jsonl", f"{where}: compressed payload exceeds its size bound")
    if dict_id not in dictionaries:
        raise Bad(f"codecs/payload-{dict_id:08x}.dict", f"{where}: the payload's dictionary "
                  "is missing from the bundle")
    try:
        return decode(dictionaries[dict_id])
    except Exception:
        raise Bad("events.jsonl", f"{where}: compressed payload does not decompress") from None


def _decompress(path: str, codec: str, data: bytes, length: int) -> bytes:
    """A compressed raw audio segment's audio bytes (bounded by the length the index states)."""
    if codec == "flac":
        return _unflac(path, data, length)
    if codec != "zstd":
        raise Bad(path, f"unknown segment codec {codec!r}")
    try:
        from compression import zstd  # Python 3.14+

        def decode() -> bytes:
            return bytes(zstd.ZstdDecompressor().decompress(data, max_length=length + 1))
    except ImportError:
        try:
            import zstandard
        except ImportError:
            raise Bad(path, "cannot check: raw audio is Zstandard-compressed; install the "
                      "`zstandard` package (or use Python 3.14+)") from None

        def decode() -> bytes:
            if zstandard.frame_content_size(data) > length:
                return b"\0" * (length + 1)  # refused below, never decoded
            return bytes(zstandard.ZstdDecompressor().decompress(data, max_output_size=length))
    try:
        out = decode()
    except Exception:  # either decoder's error type: a changed or cut frame
        raise Bad(path, "segment does not decompress (altered)") from None
    if len(out) != length:
        raise Bad(path, "segment length differs from the index")
    return out


def _unflac(path: str, data: bytes, length: int) -> bytes:
    """A FLAC raw audio part (16-bit mono samples, RFC 9639): its exact bytes."""
    try:
        import soundfile
    except ImportError:
        raise Bad(path, "cannot check: raw audio is FLAC-compressed; install the `soundfile` "
                  "package (libsndfile)") from None
    try:
        with soundfile.SoundFile(io.BytesIO(data)) as f:
            if (f.format, f.subtype, f.channels) != ("FLAC", "PCM_16", 1) \
                    or f.frames * 2 != length:
                raise Bad(path, "segment length differs from the index")
            out = bytes(f.read(dtype="int16").astype("<i2", copy=False).tobytes())
    except Bad:
        raise
    except Exception:  # libsndfile's error: a changed or cut stream
        raise Bad(path, "segment does not decompress (altered)") from None
    if len(out) != length:
        raise Bad(path, "segment length differs from the index")
    return out


def _check_custody(files: dict[str, bytes], manifest: dict[str, Any]) -> str:
    custody = _json(files, "custody.json")
    if custody.get("contents_sha256") != contents_digest(manifest.get("files", {})):
        raise Bad("custody.json", "custody record does not commit to these files")
    pos = custody.get("position")
    return ("custody: export recorded" + (f" in the ledger at position {pos}" if pos is not None
                                          else " (no ledger position on this build)"))


CUSTODY_EXCLUDED = ("custody.json", "certification.md", "manifest.json")


def contents_digest(listed: dict[str, Any]) -> str:
    """SHA-256 over the sorted (path, sha256) of every file but custody/certification/manifest."""
    body = "".join(f"{p}\n{v['sha256']}\n" for p, v in sorted(listed.items())
                   if p not in CUSTODY_EXCLUDED)
    return hashlib.sha256(body.encode()).hexdigest()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("bundle", help="bundle .zip")
    ap.add_argument("--trusted-key", help="file of pinned log vkeys")
    ap.add_argument("--policy", help="pinned C2SP tlog-policy file")
    ap.add_argument("--json", action="store_true", help="machine-readable result")
    args = ap.parse_args(argv)
    try:
        files = read_bundle(args.bundle)
        pinned = Path(args.trusted_key).read_text() if args.trusted_key else None
        policy = Path(args.policy).read_text() if args.policy else None
    except (OSError, zipfile.BadZipFile) as exc:
        print(f"error: cannot read: {exc}", file=sys.stderr)
        return 2
    res = verify(files, pinned, policy)
    report(res, args.json, sys.stdout)
    return 0 if res.ok else 1


def report(res: Result, as_json: bool, out: io.TextIOBase | Any) -> None:
    if as_json:
        out.write(json.dumps({"ok": res.ok, "checked": res.checked, "facts": res.facts,
                              "failures": [{"file": f, "why": w} for f, w in res.failures]},
                             indent=2) + "\n")
        return
    for line in res.checked:
        out.write(f"OK   {line}\n")
    for path, why in res.failures:
        out.write(f"FAIL {path}: {why}\n")
    bad = sorted({p for p, _ in res.failures})
    out.write("VERIFIED\n" if res.ok else f"NOT VERIFIED: bad file(s): {', '.join(bad)}\n")


if __name__ == "__main__":
    sys.exit(main())
