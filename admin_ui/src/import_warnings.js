// What bpmn-js could not read when it opened a diagram. Anything it could not read is missing from the
// diagram it saves, so the analyst is told before saving: what it means, in Chinese, and bpmn-js's own words.
function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}

// bpmn-js warnings carry `message` and sometimes `element` (the moddle element) or an `error`. An unknown
// element is dropped on save; an unknown attribute is kept (moddle stores it as is).
function kind(message) {
  if (/^unknown attribute/.test(message)) return '无法识别的属性（保存时原样保留）';
  if (/unparsable content|unrecognized|unknown type/.test(message)) return '无法识别的元素（保存后将丢失）';
  return '无法读取的内容（保存后可能丢失）';
}

function warningText(warning) {
  const message = warning.message || String(warning);
  const element = warning.element && warning.element.id ? `，所在元素 ${warning.element.id}` : '';
  return `${kind(message)}${element}：${message}`;
}

export function showImportWarnings(container, warnings) {
  if (!container) return;
  const list = warnings || [];
  container.hidden = list.length === 0;
  container.innerHTML = list.length === 0 ? '' : `<p><strong>流程图打开时有 ${list.length} 处内容设计器无法识别，`
    + '请核对后再保存或发布：</strong></p>'
    + `<ul>${list.map((w) => `<li>${escapeHtml(warningText(w))}</li>`).join('')}</ul>`;
}
