"""The national 政务服务好差评 scale (国办发〔2019〕51号): five levels, stored as 5 (非常满意) … 1 (非常不满意).
非常满意, 满意 and 基本满意 count as satisfied; 不满意 and 非常不满意 are a 差评 and open a follow-up."""
from __future__ import annotations

from typing import Any

from app.errors import ValidationFailed

LEVELS: dict[int, str] = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
SATISFIED = frozenset({5, 4, 3})
BAD = frozenset({2, 1})
COMMENT_MAX = 500


def parse_level(raw: Any) -> int:
    """The level from a form or JSON value: its number (1–5) or its Chinese label."""
    text = str(raw if raw is not None else "").strip()
    by_label = {label: level for level, label in LEVELS.items()}
    if text in by_label:
        return by_label[text]
    if text.isdigit() and int(text) in LEVELS:
        return int(text)
    raise ValidationFailed("请选择评价等级：非常满意、满意、基本满意、不满意或非常不满意", field="level",
                           code="bad_level")


def parse_comment(raw: Any) -> str:
    comment = str(raw or "").strip()
    if len(comment) > COMMENT_MAX:
        raise ValidationFailed(f"评价意见不能超过 {COMMENT_MAX} 个字（现有 {len(comment)} 个字）", field="comment",
                               code="comment_too_long")
    return comment


def is_bad(level: int) -> bool:
    return level in BAD
