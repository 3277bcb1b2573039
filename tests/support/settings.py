"""The app's settings for a test: its own instance and file directories, fast password hashing."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from app.config import ROOT, Settings


def make_settings(database_url: str, tmp_path: Path, **overrides: Any) -> Settings:
    """Settings from the environment on ``database_url`` with files under ``tmp_path``; ``overrides`` last."""
    settings = Settings.from_env()
    settings.database_url = database_url
    settings.instance_path = tmp_path / "instance"
    settings.storage_dir = tmp_path / "files"
    settings.definitions_root = ROOT
    settings.password_hash_method = "pbkdf2:sha256:1000"  # demo accounts are seeded for every test
    for key, value in overrides.items():
        setattr(settings, key, value)
    return settings
