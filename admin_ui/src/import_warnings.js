// What bpmn-js could not read when it opened a diagram. Anything it could not read is missing from the
// diagram it saves, so the analyst is told before saving: a Chinese sentence and bpmn-js's own words.
function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}

// bpmn-js warnings carry `message` and sometimes `element` (the moddle element) or an `error`.
function warningText(warning) {
  const element = warning.element && warning.element.id ? `（元素 ${warning.element.id}）` : '';
  return `${warning.message || String(warning)}${element}`;
}

export function showImportWarnings(container, warnings) {
  if (!container) return;
  const list = warnings || [];
  container.hidden = list.length === 0;
  container.innerHTML = list.length === 0 ? '' : `<p><strong>流程图打开时有 ${list.length} 处内容无法识别，`
    + '保存后这些内容将丢失。请核对后再保存或发布：</strong></p>'
    + `<ul>${list.map((w) => `<li>${escapeHtml(warningText(w))}</li>`).join('')}</ul>`;
}
