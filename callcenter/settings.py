"""Service settings, from the environment (prefix ``HOTLINE_``) and a few well-known names.

Nothing is built at import time: :func:`load_settings` is called by the composition root and by tests with
their own overrides.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

from pydantic import AliasChoices, BaseModel, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class AmiTarget(BaseModel):
    host: str
    port: int
    username: str
    secret: str


def parse_ami_url(url: str) -> AmiTarget:
    """``ami://user:secret@host:port`` → :class:`AmiTarget` (port 5038 when omitted)."""
    parts = urlsplit(url)
    if parts.scheme not in ("ami", "tcp"):
        raise ValueError(f"AMI_URL must look like ami://user:secret@host:5038, got scheme {parts.scheme!r}")
    if not parts.hostname or not parts.username:
        raise ValueError("AMI_URL must name a host and a user: ami://user:secret@host:5038")
    return AmiTarget(
        host=parts.hostname,
        port=parts.port or 5038,
        username=unquote(parts.username),
        secret=unquote(parts.password or ""),
    )


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HOTLINE_", extra="ignore")

    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "HOTLINE_DATABASE_URL")
    )
    ami_url: str | None = Field(default=None, validation_alias=AliasChoices("AMI_URL", "HOTLINE_AMI_URL"))
    data_dir: Path = PROJECT_ROOT / "var"
    config_file: Path = PROJECT_ROOT / "config" / "hotline.yaml"
    asterisk_config_dir: Path = PROJECT_ROOT / "asterisk-config"

    http_host: str = "127.0.0.1"
    http_port: int = 8355
    agi_host: str = "127.0.0.1"
    agi_port: int = 4573
    agi_header_timeout: float = 5.0

    ami_ping_interval: float = 5.0
    ami_ping_timeout: float = 5.0

    log_level: str = "INFO"
    cookie_secure: bool = False  # set true behind HTTPS so the session cookie is never sent in clear
    session_hours: float = 12.0
    # The agents' panel softphone (JsSIP, `make softphone`): Asterisk's WSS transport, e.g.
    # wss://pbx.example:8089/ws, and the SIP domain of the agents' endpoints. Unset: no softphone.
    softphone_wss_url: str | None = None
    softphone_sip_domain: str | None = None
    overflow_interval: float = 5.0  # seconds between overflow-seat decisions; 0 turns the controller off

    # Recordings and prompts (recordings/; docs in recordings/__init__.py). Paths default under data_dir.
    monitor_dir: Path | None = None  # where MixMonitor writes (Asterisk: /var/spool/asterisk/monitor)
    recordings_dir: Path | None = None  # the converted, kept recordings
    sounds_dir: Path | None = None  # prompts: <sounds_dir>/<prompt_set>/<name>.wav (Asterisk's sounds)
    recordings_format: Literal["opus", "mp3", "wav"] = "opus"
    recordings_bitrate: str = "24k"
    recordings_key: SecretStr | None = None  # base64 of 32 bytes: AES-256-GCM at rest; unset: plain files
    retention_days: int = 180
    retention_by_category: dict[str, int] = Field(default_factory=lambda: {"crisis": 1825})
    recordings_scan_interval: float = 30.0
    recordings_settle_seconds: float = 1.0  # a spool file must be this old (Asterisk may still flush)
    recordings_purge_interval: float = 3600.0

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        return to_asyncpg_url(value)

    @field_validator("ami_url")
    @classmethod
    def _valid_ami_url(cls, value: str | None) -> str | None:
        if value:
            parse_ami_url(value)
        return value or None

    @property
    def ami_target(self) -> AmiTarget | None:
        return parse_ami_url(self.ami_url) if self.ami_url else None


def to_asyncpg_url(url: str) -> str:
    """Accept the usual ``postgresql://`` spellings and use the asyncpg driver; PostgreSQL only."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError(f"DATABASE_URL is not a URL: {url!r}")
    if scheme in ("postgres", "postgresql", "postgresql+asyncpg", "postgresql+psycopg"):
        return f"postgresql+asyncpg://{rest}"
    raise ValueError(f"DATABASE_URL must be PostgreSQL (postgresql://…), got {scheme!r}")


def load_settings(**overrides: object) -> Settings:
    return Settings(**overrides)  # type: ignore[arg-type]
