// Small behaviours shared by every page, here instead of inline handlers (the Content-Security-Policy allows
// no inline script): selects that submit their form on change, "back" links, forms that must not submit.
document.addEventListener('change', function (event) {
  var el = event.target;
  if (el.matches && el.matches('[data-autosubmit]') && el.form) el.form.submit();
});
document.addEventListener('click', function (event) {
  var link = event.target.closest && event.target.closest('[data-history-back]');
  if (link && window.history.length > 1) { event.preventDefault(); window.history.back(); }
});
document.addEventListener('submit', function (event) {
  if (event.target.matches && event.target.matches('form[data-no-submit]')) event.preventDefault();
});
// On a phone a wide table scrolls inside itself (app.css): one that does is a tab stop, so that it can be
// scrolled from the keyboard too (WCAG 2.1.1; axe-core's scrollable-region-focusable). Kept in step with the
// width: a table that fits again leaves the tab order.
function tabStopsOnScrollingTables() {
  document.querySelectorAll('table.data').forEach(function (table) {
    if (table.scrollWidth > table.clientWidth) table.tabIndex = 0;
    else table.removeAttribute('tabindex');
  });
}
tabStopsOnScrollingTables();
window.addEventListener('resize', tabStopsOnScrollingTables);
