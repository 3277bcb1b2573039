"""类别 and 保管期限 of a case's archive (docs/archives.md has the table).

The register's records are kept permanently (不动产登记资料管理办法: 登记簿 and the 登记原始资料 of registered
rights); a case that ended without a registration keeps its file for a fixed term: a refusal (不予受理 /
不予登记) 30 years, a withdrawal 10 years. The term runs from the first of January after the year the
package was built (GB/T 18894 / DA/T 22 count archive terms from the year after filing)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from app.vocabulary import CaseStatus

PERMANENT = "永久"


@dataclass(frozen=True)
class ArchiveClass:
    category: str  # 类别
    code: str  # the 档号's retention part
    retention: str  # 保管期限
    years: int | None  # None: permanent


CLASSES = {
    CaseStatus.COMPLETED: ArchiveClass("登记类", "Y", PERMANENT, None),
    CaseStatus.REFUSED: ArchiveClass("不予登记类", "D30", "30年", 30),
    CaseStatus.REJECTED: ArchiveClass("不予受理类", "D30", "30年", 30),
    CaseStatus.WITHDRAWN: ArchiveClass("撤回类", "D10", "10年", 10),
}
ENDED = tuple(CLASSES)


def class_of(status: str) -> ArchiveClass:
    return CLASSES[CaseStatus(status)]


def retain_until(cls: ArchiveClass, built_at: datetime) -> datetime | None:
    """Midnight UTC of the first of January ``years`` after the year following ``built_at``; None: permanent."""
    if cls.years is None:
        return None
    return datetime(built_at.year + 1 + cls.years, 1, 1, tzinfo=UTC)


def archive_no(tenant_id: str, year: int, cls: ArchiveClass, business_no: str) -> str:
    """档号 (全宗号-类别代码·年度-保管期限-件号): the district office's code as 全宗号, BDC (不动产登记) and
    the year, the retention code, and the business number as 件号 (unique and gap-free per office and year)."""
    return f"{tenant_id}-BDC·{year}-{cls.code}-{business_no}"
