"""The Merkle tree hash of RFC 6962 (Certificate Transparency) over the register's chain heads.

A checkpoint commits to every unit's head with one root: a leaf is ``SHA-256(0x00 || leaf bytes)``, an inner
node ``SHA-256(0x01 || left || right)``, and a tree of n leaves splits at the largest power of two below n —
so a receiving zone can recompute the root from the heads alone, with nothing but hashlib.
"""
from __future__ import annotations

import hashlib

EMPTY_ROOT = hashlib.sha256(b"").hexdigest()


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _root(hashes: list[bytes]) -> bytes:
    if len(hashes) == 1:
        return hashes[0]
    split = 1 << ((len(hashes) - 1).bit_length() - 1)
    return _node(_root(hashes[:split]), _root(hashes[split:]))


def merkle_root(leaves: list[bytes]) -> str:
    """Hex root of the leaves in the given order (RFC 6962 §2.1); the empty tree hashes the empty string."""
    if not leaves:
        return EMPTY_ROOT
    return _root([leaf_hash(leaf) for leaf in leaves]).hex()
