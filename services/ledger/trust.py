"""Which keys a verifier trusts: the local public-key file, a pinned key file, or a tlog-policy.

``verify`` never derives a checkpoint key from the data keyring. By default it trusts the
published signing public keys (``keys/signing.pub.json``: every version, plus legacy keys bounded
by their migration size); ``--trusted-key FILE`` pins vkeys instead (log keys of type 0x01 and
witness keys of type 0x04, one per line); ``--policy FILE`` reads a C2SP tlog-policy, whose
quorum of witness cosignatures the newest checkpoint must then meet.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from services.ledger.checkpoint import (
    BadSignatureError,
    Checkpoint,
    NoteError,
    UnknownSignerError,
    Verifier,
    VerifierKeyError,
    origin_for,
    parse_checkpoint,
    parse_note,
)
from services.ledger.cosignature import (
    ALG_COSIGNATURE_V1,
    Policy,
    WitnessKey,
    cosigners,
    parse_policy,
    vkey_type,
)
from services.platform.signing import PublicKeys


class TrustError(ValueError):
    """A trusted-key or policy file cannot be read; the message names the file and line."""


@dataclass(frozen=True)
class LogKey:
    verifier: Verifier
    max_size: int | None = None  # legacy keys vouch only up to their migration size
    label: str = "signing key"


@dataclass
class Trust:
    log_keys: list[LogKey] = field(default_factory=list)
    # Without an origin restriction (the local file), keys are named per tenant on use.
    raw_keys: list[tuple[bytes, str]] = field(default_factory=list)
    legacy: dict[str, tuple[bytes, int]] = field(default_factory=dict)
    policy: Policy | None = None
    source: str = "local"

    @classmethod
    def local(cls, public: PublicKeys) -> Trust:
        return cls(raw_keys=[(k, f"signing key v{v}") for v, k in sorted(public.keys.items())],
                   legacy={t: (k.public_key, k.max_size) for t, k in public.legacy.items()})

    @classmethod
    def from_file(cls, path: Path) -> Trust:
        trust = cls(source=f"pinned {path.name}")
        witnesses: dict[str, WitnessKey] = {}
        for n, line in enumerate(_read(path).splitlines(), 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            try:
                if vkey_type(line) == ALG_COSIGNATURE_V1:
                    wk = WitnessKey.parse(line)
                    witnesses[wk.name] = wk
                else:
                    trust.log_keys.append(LogKey(Verifier.parse(line), label="pinned key"))
            except VerifierKeyError as exc:
                raise TrustError(f"{path}:{n}: {exc}") from None
        if not trust.log_keys:
            raise TrustError(f"{path}: no log vkey (print one with `voxledger keys public`)")
        if witnesses:
            # Pinned witness keys are checked when present; a quorum needs a policy file.
            trust.policy = Policy(witnesses=witnesses, quorum="none")
        return trust

    @classmethod
    def from_policy(cls, path: Path) -> Trust:
        try:
            policy = parse_policy(_read(path))
        except ValueError as exc:
            raise TrustError(f"{path}: {exc}") from None
        if not policy.logs:
            raise TrustError(f"{path}: the policy lists no log key")
        return cls(log_keys=[LogKey(v, label="policy log key") for v in policy.logs],
                   policy=policy, source=f"policy {path.name}")

    def verifiers(self, tenant: str) -> list[LogKey]:
        origin = origin_for(tenant)
        out = [k for k in self.log_keys if k.verifier.name == origin]
        out += [LogKey(Verifier.from_public_key(origin, raw), label=label)
                for raw, label in self.raw_keys]
        if tenant in self.legacy:
            raw, size = self.legacy[tenant]
            out.append(LogKey(Verifier.from_public_key(origin, raw), size, "legacy key"))
        return out

    def open(self, note: str | bytes, tenant: str) -> Checkpoint:
        """Verify ``note`` against a trusted key for ``tenant``; raise :class:`NoteError`."""
        parsed = parse_note(note)
        keys = self.verifiers(tenant)
        if not keys:
            raise UnknownSignerError(f"no trusted key for {origin_for(tenant)}")
        for key in keys:
            v = key.verifier
            for sig in parsed.signatures:
                if (sig.name, sig.key_id) != (v.name, v.key_id):
                    continue
                if not v.verify(parsed.text, sig.signature):
                    raise BadSignatureError(f"signature by {v.name} ({key.label}) does not verify")
                cp = parse_checkpoint(parsed.text)
                if cp.origin != origin_for(tenant):
                    raise NoteError(f"checkpoint origin {cp.origin!r} is not {v.name!r}")
                if key.max_size is not None and cp.size > key.max_size:
                    raise UnknownSignerError(
                        f"checkpoint {cp.size} is signed by the legacy key, which vouches only "
                        f"up to size {key.max_size}")
                return cp
        raise UnknownSignerError(f"checkpoint carries no signature by a trusted key for "
                                 f"{origin_for(tenant)} ({self.source})")

    def cosigned_by(self, note: str | bytes) -> dict[str, int]:
        if self.policy is None:
            return {}
        return cosigners(parse_note(note), self.policy.witnesses)


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError as exc:
        raise TrustError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise TrustError(f"{path} is not UTF-8 text") from None
