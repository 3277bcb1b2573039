"""The platforms this one trusts (``federation_peer``) and the nonces it has already accepted from them."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow


class FederationPeer(Base):
    """Another platform (national, a province, a city), known by its division code: where it answers and the
    Ed25519 public key its requests and identity assertions are verified with. No shared password exists."""

    __tablename__ = "federation_peer"

    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    level: Mapped[str] = mapped_column(String(8))  # national | province | city
    base_url: Mapped[str] = mapped_column(String(255))
    public_key: Mapped[str] = mapped_column(Text)  # base64 of the 32-byte raw Ed25519 public key
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class FederationNonce(Base):
    """A nonce a peer has used (a request or an assertion), kept until its message would have expired anyway:
    the primary key makes a second use fail even when two copies arrive at the same moment."""

    __tablename__ = "federation_nonce"

    peer_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
