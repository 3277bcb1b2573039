// Public pages load the zoomable diagram viewer only when the reader asks for it (keeps their weight budget).
document.querySelectorAll('.bpmn-viewer-load').forEach(function (button) {
  button.hidden = false;
  button.addEventListener('click', function () {
    var link = document.createElement('link');
    link.rel = 'stylesheet'; link.href = button.getAttribute('data-css');
    var script = document.createElement('script');
    script.src = button.getAttribute('data-js');
    document.head.appendChild(link); document.head.appendChild(script);
    button.hidden = true;
  });
});
