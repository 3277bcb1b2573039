// Starts the process designer with the configuration the page passes as JSON (no inline script under the CSP).
BdcDesigner.start(JSON.parse(document.getElementById('designer-config').textContent));
