// Link navigation between platforms (docs/federation.md): the signed assertion travels in a form posted to the
// next platform at once, so it never sits in a URL; without script the person presses 继续.
document.querySelectorAll('form[data-hop]').forEach(function (form) { form.submit(); });
