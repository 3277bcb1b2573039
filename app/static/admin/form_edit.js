// Live preview: re-render the preview from the table as the analyst types (the 预览 button does the same without JS).
(function () {
  const form = document.getElementById('field-table');
  if (!form) return;
  let timer = null;
  form.addEventListener('input', function () {
    clearTimeout(timer);
    timer = setTimeout(async function () {
      const resp = await fetch(form.dataset.previewUrl, { method: 'POST', body: new FormData(form),
        headers: { 'X-CSRFToken': document.querySelector('meta[name="csrf-token"]').content } });
      if (resp.ok) document.getElementById('form-preview').innerHTML = await resp.text();
    }, 300);
  });
})();
