"""SpiffWorkflow's English parse errors, said in Chinese for the analyst.

Why: the designer shows each problem on its element to a business analyst; SpiffWorkflow (and the lxml
schema validator under it) reports in English, with namespaces in braces and sometimes a Python repr
(``<Element … at 0x…>``). Known messages are translated; anything else becomes a plain Chinese sentence
(the English original goes to the log for a developer, never to the screen).
"""
from __future__ import annotations

import logging
import re

log = logging.getLogger(__name__)

_LOCAL = r"\{[^}]*\}(\w+)"
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"The process '([^']*)' was not found"), "调用的流程“{0}”不存在"),
    (re.compile(rf"Element '{_LOCAL}', attribute '(?:\{{[^}}]*\}})?([\w:]+)': The attribute '[^']*' is not allowed"),
     "元素 <{0}> 上不允许有属性 {1}"),
    (re.compile(rf"Element '{_LOCAL}', attribute '(?:\{{[^}}]*\}})?([\w:]+)': .*is not a valid value"),
     "元素 <{0}> 的属性 {1} 取值无效"),
    (re.compile(rf"Element '{_LOCAL}': This element is not expected"),
     "此处不允许出现元素 <{0}>（不符合 BPMN 2.0 结构）"),
    (re.compile(rf"Element '{_LOCAL}': Missing child element"), "元素 <{0}> 缺少必需的子元素（不符合 BPMN 2.0 结构）"),
    (re.compile(rf"Element '{_LOCAL}': .*is not a valid value"), "元素 <{0}> 的内容取值无效"),
    (re.compile(r"No start event found|has no start event", re.I), "流程没有开始事件"),
    (re.compile(r"Multiple outgoing sequence flows with the same source", re.I), "同一元素有重复的连线"),
    (re.compile(r"Invalid sequence flow", re.I), "连线的起点或终点不存在"),
    (re.compile(r"Expected an? (\w+) event definition", re.I), "事件类型与所在位置不符"),
    (re.compile(r"Unable to find a message", re.I), "引用的消息不存在"),
]


def spiff_message(english: str, *, element: str | None = None) -> str:
    """A Chinese sentence for one SpiffWorkflow or schema error message."""
    for pattern, chinese in _PATTERNS:
        found = pattern.search(english)
        if found:
            return chinese.format(*found.groups())
    log.info("untranslated SpiffWorkflow message for %s: %s", element or "-", english)
    return "流程引擎无法解析此元素（结构不被支持，或引用了不存在的元素）"
