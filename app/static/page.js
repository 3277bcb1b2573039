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
