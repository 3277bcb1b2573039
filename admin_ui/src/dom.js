// The one small DOM builder of the admin bundles' plain-DOM widgets (condition builder, dry-run form).

/** An element with attributes (``text`` sets its text; false/null/undefined attributes are left out). */
export function el(tag, attrs, children) {
  const node = document.createElement(tag);
  Object.entries(attrs || {}).forEach(([k, v]) => {
    if (v === undefined || v === null || v === false) return;
    if (k === 'text') node.textContent = v; else node.setAttribute(k, v === true ? '' : v);
  });
  (children || []).forEach((c) => node.appendChild(c));
  return node;
}
