"""Every setting comes from the environment, with safe development defaults — except keys and secrets.

No key, secret or salt printed in this repository is ever used: the keys come from the environment (or a
``NAME_FILE``), or in development from ``instance/keys.env``, which ``make setup`` fills with random keys on
first set-up (``python -m app.security.keygen``). A start without them refuses with a message naming what is
missing; production (`APP_ENV=production`) never reads ``instance/keys.env``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


class ConfigError(RuntimeError):
    pass


def env_str(name: str, default: str | None = None) -> str | None:
    """Read NAME, or the file named by NAME_FILE (for secrets mounted as files)."""
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        return Path(file_name).read_text(encoding="utf-8").strip()
    return os.environ.get(name, default)


def env_int(name: str, default: int) -> int:
    raw = env_str(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from exc


def env_bool(name: str, default: bool) -> bool:
    raw = env_str(name)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be a boolean, got {raw!r}")


# Every key and secret a server needs; none has a default. Each callback has its own secret, so the secret of one
# department cannot forge another's callback.
SECRET_NAMES = ("SECRET_KEY", "FIELD_KEYS", "FIELD_ACTIVE_KEY", "BLIND_INDEX_KEY", "TAX_CALLBACK_SECRET",
                "PAYMENT_CALLBACK_SECRET", "SIMULATOR_API_KEY", "RATELIMIT_STORAGE_URI")
REQUIRED_SECRETS = SECRET_NAMES[:-1]
KEYS_FILE = "keys.env"


def read_keys_file(path: Path) -> dict[str, str]:
    """``NAME=value`` lines of a development keys file (``#`` comments and blank lines skipped)."""
    if not path.is_file():
        return {}
    values: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        name, sep, value = line.strip().partition("=")
        if sep and not name.startswith("#"):
            values[name.strip()] = value.strip()
    return values


def configured_secrets(instance: Path, env: str) -> dict[str, str]:
    """The keys and secrets from the environment (or ``NAME_FILE``), else — outside production — from
    ``instance/keys.env``. Missing required ones raise ``ConfigError`` naming them and how to get them."""
    from_file = {} if env == "production" else read_keys_file(instance / KEYS_FILE)
    values = {name: env_str(name) or from_file.get(name, "") for name in SECRET_NAMES}
    missing = [name for name in REQUIRED_SECRETS if not values[name]]
    if missing:
        where = ("set them in the environment (or NAME_FILE)" if env == "production" else
                 f"run `make setup` to generate development keys into {instance / KEYS_FILE}, or set them in "
                 "the environment")
        raise ConfigError(f"refusing to start without keys: {', '.join(missing)} — {where}")
    return values


PLATFORM_LEVELS = ("national", "province", "city")
DEFAULT_PLATFORM_CODES = {"national": "000000", "city": "330100"}


def check_platform(level: str, code: str) -> None:
    """PLATFORM_LEVEL and PLATFORM_CODE agree: national is 000000, a province code ends in 0000 (330000 浙江), a
    city's in 00 but not 0000 (330100 杭州) — the six digits a unit code starts with route to it."""
    if level not in PLATFORM_LEVELS:
        raise ConfigError(f"PLATFORM_LEVEL must be national, province or city, got {level!r}")
    if not (len(code) == 6 and code.isdigit()):
        raise ConfigError(f"PLATFORM_CODE must be a six-digit division code (dictionaries/divisions.csv), got {code!r}")
    fits = {"national": code == "000000",
            "province": code.endswith("0000") and code != "000000",
            "city": code.endswith("00") and not code.endswith("0000")}[level]
    if not fits:
        raise ConfigError(f"PLATFORM_CODE {code} is not a {level} code (national 000000, a province like 330000, "
                          "a city like 330100)")


def database_url_from_env() -> str:
    """The database URL alone (migrations need no keys)."""
    instance = Path(env_str("INSTANCE_PATH") or ROOT / "instance")
    return env_str("DATABASE_URL") or f"sqlite:///{instance / 'bdcdj.sqlite3'}"


def _env_path(name: str) -> Path | None:
    raw = os.environ.get(name)
    return Path(raw) if raw else None


def cert_font_path() -> Path:
    """``CERT_FONT_FILE``, or the CJK font ``make install`` puts in place."""
    return _env_path("CERT_FONT_FILE") or Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")


@dataclass
class Settings:
    env: str = "development"
    database_url: str = ""
    secret_key: str = ""
    field_algorithm: str = "SM4-GCM"
    field_keys: str = ""
    field_active_key: str = ""
    blind_index_key: str = ""
    instance_path: Path = ROOT / "instance"
    definitions_root: Path = ROOT
    storage_dir: Path = ROOT / "instance" / "files"
    token_ttl_seconds: int = 8 * 3600
    # Applicants (portal accounts) are signed out after this long without a request (public devices).
    portal_idle_timeout_seconds: int = 30 * 60
    # Number of reverse proxies in front of the app whose X-Forwarded-For is trusted (0: none, the socket's
    # peer is the client). Per-address limits (SMS codes) need the real client address.
    trusted_proxies: int = 0
    # werkzeug's hashing method for new passwords; the default (scrypt) is deliberately slow. Tests choose a
    # cheap one so that seeding twenty demo accounts per test does not dominate the suite.
    password_hash_method: str = "scrypt"
    max_upload_mb: int = 20
    # Sign-in protection (运维管理): password rules, lockout after repeated failures (held in the database,
    # so every process sees it), idle timeout of staff page sessions, the issuer shown in TOTP apps.
    password_min_length: int = 8
    password_min_classes: int = 3  # of: lower case, upper case, digits, other characters
    lockout_threshold: int = 5
    lockout_minutes: int = 15
    staff_idle_minutes: int = 30
    totp_issuer: str = "不动产登记"
    # Certificates: office signing key/cert and the verifier's trust root (None → dev keys under instance/keys),
    # the CJK TrueType font embedded in certificate PDFs, and the public URL the QR code points at.
    cert_signing_key_file: Path | None = None
    cert_signing_cert_file: Path | None = None
    cert_trust_root_file: Path | None = None
    cert_font_file: Path = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")
    public_base_url: str = "http://127.0.0.1:5000"
    # Data sharing (app/integrations): default address and key of the departments (the simulator in
    # development), the 税务 callback secret, where departments call back, how long to wait for 完税.
    integrations_base_url: str = "http://127.0.0.1:5010"
    integrations_api_key: str = ""
    tax_callback_secret: str = ""
    payment_callback_secret: str = ""
    callback_base_url: str = "http://127.0.0.1:5000"
    tax_wait_working_days: int = 5
    outbox_max_attempts: int = 8
    # Outbox delivery (app/integrations/outbox.py): deliverer threads of a job run (one on SQLite), how long a
    # run may drain before it yields to the next tick, and how many days a sent message is kept (0: pruned
    # at the next prune run; each push stays in the interface call log for the log retention).
    outbox_deliverers: int = 4
    outbox_budget_seconds: int = 20
    outbox_retention_days: int = 7
    # Logs (audit, interface calls, exceptions) are kept at least a year.
    log_retention_days: int = 365
    scheduler_enabled: bool = False
    # The PDFs a committed request asked for (the certificate 缮证 numbered, the 申请书 after the last signature)
    # made by the same process right after its response (development, tests, a single process). Off (what
    # app/serving.py sets for gunicorn): the web workers leave them to the scheduler's jobs, which then run every
    # 2 s, so a web worker never loads the PDF stack for them (issue 18: ≈ 80 MB per worker).
    documents_after_response: bool = True
    # The scheduler's document jobs (certificates, 申请书) run in a child process of the lease holder
    # (``python -m app.renderer``), the only process that loads the PDF stack; off: in the holder itself.
    # app/serving.py sets it for gunicorn, so no web worker carries the PDF stack.
    renderer_process: bool = False
    # Of several processes with the scheduler enabled, the one holding the ``scheduler`` lease runs the jobs; it
    # renews the lease every third of this, and another process takes over this long after the holder died.
    scheduler_lease_seconds: int = 30
    # Throttling counters (flask-limiter): process memory in development, Redis etc. in production.
    ratelimit_storage_uri: str = "memory://"
    # The session cookie only over HTTPS (default on in production; behind a TLS-terminating proxy too).
    session_cookie_secure: bool = False
    # Anchoring (h6): the signed checkpoint log's directory (default instance/checkpoints), and the owner's
    # connection that runs migrations on PostgreSQL while the app connects as a role that owns no table.
    checkpoint_dir: Path | None = None
    # Electronic archives (docs/archives.md): the directory packages are dropped into for the archive system
    # (none: the HTTP interface only).
    archive_export_dir: Path | None = None
    migrate_database_url: str = ""
    # Federation (docs/federation.md): the level this deployment serves (national | province | city — city is
    # the platform as it always was), its division code (dictionaries/divisions.csv; 000000 for national), its
    # own Ed25519 signing key (base64 of the 32-byte private key, a secret like the others; none: it cannot call
    # or assert to peers) and how far a peer's clock may differ from ours.
    platform_level: str = "city"
    platform_code: str = "330100"
    federation_signing_key: str = ""
    federation_skew_seconds: int = 300
    # Zones (docs/ferry.md): the extranet writes a signed package after 登簿 into FERRY_EXPORT_DIR (none: no
    # export); the intranet checks them with the extranet office's certificate or public key
    # (FERRY_EXTRANET_CERT_FILE, PEM); the extranet checks the intranet's offline return files with the
    # intranet's Ed25519 public key (FERRY_INTRANET_PUBLIC_KEY, base64, what `flask federation key` prints there).
    ferry_export_dir: Path | None = None
    ferry_extranet_cert_file: Path | None = None
    ferry_intranet_public_key: str = ""
    # Scaling (docs/scaling.md): a streaming replica's URL for the inbox counts, statistics and register queries
    # (none: they read the primary, as do they when the replica cannot be reached).
    database_replica_url: str = ""
    # How long the province waits for each city's answer to a cross-city question (province-wide 无房证明);
    # a city that has not answered by then is named in a partial answer.
    federation_query_timeout_s: float = 3.0
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> Settings:
        instance = Path(env_str("INSTANCE_PATH") or ROOT / "instance")
        algorithm = env_str("FIELD_ALGORITHM", "SM4-GCM") or "SM4-GCM"
        app_env = env_str("APP_ENV", "development") or "development"
        secrets = configured_secrets(instance, app_env)
        settings = cls(
            env=app_env,
            database_url=database_url_from_env(),
            secret_key=secrets["SECRET_KEY"],
            field_algorithm=algorithm,
            field_keys=secrets["FIELD_KEYS"],
            field_active_key=secrets["FIELD_ACTIVE_KEY"],
            blind_index_key=secrets["BLIND_INDEX_KEY"],
            instance_path=instance,
            definitions_root=Path(env_str("DEFINITIONS_ROOT") or ROOT),
            storage_dir=Path(env_str("STORAGE_DIR") or instance / "files"),
            token_ttl_seconds=env_int("TOKEN_TTL_SECONDS", 8 * 3600),
            portal_idle_timeout_seconds=env_int("PORTAL_IDLE_TIMEOUT_SECONDS", 30 * 60),
            trusted_proxies=env_int("TRUSTED_PROXIES", 0),
            password_hash_method=env_str("PASSWORD_HASH_METHOD", "scrypt") or "scrypt",
            max_upload_mb=env_int("MAX_UPLOAD_MB", 20),
            password_min_length=env_int("PASSWORD_MIN_LENGTH", 8),
            password_min_classes=env_int("PASSWORD_MIN_CLASSES", 3),
            lockout_threshold=env_int("LOCKOUT_THRESHOLD", 5),
            lockout_minutes=env_int("LOCKOUT_MINUTES", 15),
            staff_idle_minutes=env_int("STAFF_IDLE_MINUTES", 30),
            totp_issuer=env_str("TOTP_ISSUER") or "不动产登记",
            cert_signing_key_file=_env_path("CERT_SIGNING_KEY_FILE"),
            cert_signing_cert_file=_env_path("CERT_SIGNING_CERT_FILE"),
            cert_trust_root_file=_env_path("CERT_TRUST_ROOT_FILE"),
            cert_font_file=cert_font_path(),
            public_base_url=env_str("PUBLIC_BASE_URL") or "http://127.0.0.1:5000",
            integrations_base_url=env_str("INTEGRATIONS_BASE_URL") or "http://127.0.0.1:5010",
            integrations_api_key=secrets["SIMULATOR_API_KEY"],
            tax_callback_secret=secrets["TAX_CALLBACK_SECRET"],
            payment_callback_secret=secrets["PAYMENT_CALLBACK_SECRET"],
            ratelimit_storage_uri=secrets["RATELIMIT_STORAGE_URI"] or "memory://",
            session_cookie_secure=env_bool("SESSION_COOKIE_SECURE", app_env == "production"),
            callback_base_url=env_str("CALLBACK_BASE_URL") or env_str("PUBLIC_BASE_URL") or "http://127.0.0.1:5000",
            tax_wait_working_days=env_int("TAX_WAIT_WORKING_DAYS", 5),
            outbox_max_attempts=env_int("OUTBOX_MAX_ATTEMPTS", 8),
            outbox_deliverers=env_int("OUTBOX_DELIVERERS", 4),
            outbox_budget_seconds=env_int("OUTBOX_BUDGET_SECONDS", 20),
            outbox_retention_days=env_int("OUTBOX_RETENTION_DAYS", 7),
            log_retention_days=env_int("LOG_RETENTION_DAYS", 365),
            scheduler_enabled=env_bool("SCHEDULER_ENABLED", False),
            documents_after_response=env_bool("DOCUMENTS_AFTER_RESPONSE", True),
            renderer_process=env_bool("RENDERER_PROCESS", False),
            scheduler_lease_seconds=env_int("SCHEDULER_LEASE_SECONDS", 30),
            checkpoint_dir=_env_path("CHECKPOINT_DIR"),
            archive_export_dir=_env_path("ARCHIVE_EXPORT_DIR"),
            migrate_database_url=env_str("MIGRATE_DATABASE_URL") or "",
            platform_level=(env_str("PLATFORM_LEVEL") or "city").strip().lower(),
            platform_code=(env_str("PLATFORM_CODE") or "").strip() or DEFAULT_PLATFORM_CODES.get(
                (env_str("PLATFORM_LEVEL") or "city").strip().lower(), ""),
            federation_signing_key=env_str("FEDERATION_SIGNING_KEY") or (
                {} if app_env == "production" else read_keys_file(instance / KEYS_FILE)).get(
                "FEDERATION_SIGNING_KEY", ""),
            federation_skew_seconds=env_int("FEDERATION_SKEW_SECONDS", 300),
            ferry_export_dir=_env_path("FERRY_EXPORT_DIR"),
            ferry_extranet_cert_file=_env_path("FERRY_EXTRANET_CERT_FILE"),
            ferry_intranet_public_key=env_str("FERRY_INTRANET_PUBLIC_KEY") or "",
            database_replica_url=env_str("DATABASE_REPLICA_URL") or "",
            federation_query_timeout_s=float(env_int("FEDERATION_QUERY_TIMEOUT_S", 3)),
        )
        settings.check()
        return settings

    def check(self) -> None:
        check_platform(self.platform_level, self.platform_code)
        if not 10 <= self.federation_skew_seconds <= 3600:
            raise ConfigError("FEDERATION_SKEW_SECONDS must be between 10 and 3600")
        if not 0 < self.federation_query_timeout_s <= 60:
            raise ConfigError("FEDERATION_QUERY_TIMEOUT_S must be between 1 and 60 seconds")
        if self.field_algorithm not in {"SM4-GCM", "AES-256-GCM"}:
            raise ConfigError("FIELD_ALGORITHM must be SM4-GCM or AES-256-GCM")
        if self.log_retention_days < 365:
            raise ConfigError("LOG_RETENTION_DAYS must be at least 365 (logs are kept at least one year)")
        if self.scheduler_lease_seconds < 3:
            raise ConfigError("SCHEDULER_LEASE_SECONDS must be at least 3 (the holder renews it every third)")
        if not 1 <= self.outbox_deliverers <= 32:
            raise ConfigError("OUTBOX_DELIVERERS must be between 1 and 32 (each is a thread with a connection)")
        if not 1 <= self.outbox_budget_seconds <= 600:
            raise ConfigError("OUTBOX_BUDGET_SECONDS must be between 1 and 600")
        if self.outbox_retention_days < 0:
            raise ConfigError("OUTBOX_RETENTION_DAYS must be 0 (prune once sent) or more")
        callback_secrets = [self.tax_callback_secret, self.payment_callback_secret]
        if len(set(callback_secrets)) != len(callback_secrets):
            raise ConfigError("each callback needs its own secret: TAX_CALLBACK_SECRET and PAYMENT_CALLBACK_SECRET "
                              "must differ")
        if self.env == "production":
            if self.ratelimit_storage_uri.startswith("memory"):
                raise ConfigError("production needs RATELIMIT_STORAGE_URI (e.g. redis://…): throttling counters "
                                  "in process memory are not shared between processes")
            if not (self.cert_signing_key_file and self.cert_signing_cert_file and self.cert_trust_root_file):
                raise ConfigError("production needs CERT_SIGNING_KEY_FILE, CERT_SIGNING_CERT_FILE and "
                                  "CERT_TRUST_ROOT_FILE (development signing keys are refused)")
        partial = [self.cert_signing_key_file, self.cert_signing_cert_file, self.cert_trust_root_file]
        if any(partial) and not all(partial):
            raise ConfigError("CERT_SIGNING_KEY_FILE, CERT_SIGNING_CERT_FILE and CERT_TRUST_ROOT_FILE go together")
