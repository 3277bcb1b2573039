"""R7 (细则 10; 民法典 301, 308): how many co-owners must apply to dispose of a co-owned right."""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from app.registry.co_ownership import quorum


@dataclass
class H:
    id_number_bidx: str
    share_mode: str
    share: str | None = None


def test_a_sole_owner_disposes_alone() -> None:
    assert quorum([H("a", "单独所有")], ["a"]).met
    assert not quorum([H("a", "单独所有")], ["b"]).met


def test_joint_owners_must_all_apply() -> None:
    joint = [H("a", "共同共有"), H("b", "共同共有")]
    assert not quorum(joint, ["a"]).met
    assert quorum(joint, ["a", "b"]).met


def test_co_owners_by_shares_need_two_thirds_or_all() -> None:
    shares = [H("a", "按份共有", "2/3"), H("b", "按份共有", "1/6"), H("c", "按份共有", "1/6")]
    assert quorum(shares, ["a"]).met
    below = quorum(shares, ["b", "c"])
    assert not below.met and below.share == Fraction(1, 3) and below.by_shares
    unreadable = [H("a", "按份共有", "一半"), H("b", "按份共有", "一半")]
    assert not quorum(unreadable, ["a"]).met and quorum(unreadable, ["a", "b"]).met  # all may always dispose


def test_other_co_ownership_counts_shares_only_when_the_book_records_the_whole() -> None:
    assert not quorum([H("a", "其它共有"), H("b", "其它共有")], ["a"]).met
    assert quorum([H("a", "其它共有", "70%"), H("b", "其它共有", "30%")], ["a"]).met
    assert not quorum([H("a", "其它共有", "70%"), H("b", "其它共有")], ["a"]).met
