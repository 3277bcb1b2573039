// Progressive enhancement of the portal's face check and signature forms (the forms work without it):
// a live camera preview whose snapshot fills the photo input, and a signature pad whose drawing is posted
// as a PNG data URL. Without JavaScript the file input opens the phone camera and the typed name signs.
(function () {
  "use strict";
  var face = document.getElementById("face-form");
  if (face && navigator.mediaDevices && navigator.mediaDevices.getUserMedia && window.DataTransfer) {
    var box = face.querySelector(".camera"), video = box.querySelector("video"),
        input = face.querySelector("input[type=file]");
    navigator.mediaDevices.getUserMedia({video: {facingMode: "user"}}).then(function (stream) {
      video.srcObject = stream;
      box.hidden = false;
      box.querySelector("[data-snap]").addEventListener("click", function () {
        var c = document.createElement("canvas");
        c.width = video.videoWidth || 480;
        c.height = video.videoHeight || 360;
        c.getContext("2d").drawImage(video, 0, 0, c.width, c.height);
        c.toBlob(function (blob) {
          var dt = new DataTransfer();
          dt.items.add(new File([blob], "face.jpg", {type: "image/jpeg"}));
          input.files = dt.files;
        }, "image/jpeg", 0.9);
      });
    }).catch(function () { /* no camera or refused: the file input remains */ });
  }
  var form = document.getElementById("sign-form");
  if (!form) { return; }
  var pad = form.querySelector(".signature-pad"), canvas = pad.querySelector("canvas"),
      field = form.querySelector("input[name=signature_png]"), ctx = canvas.getContext("2d"), drawn = false, last = null;
  pad.hidden = false;
  ctx.lineWidth = 3;
  ctx.lineCap = "round";
  ctx.strokeStyle = "#14145a";
  function at(e) {
    var r = canvas.getBoundingClientRect();
    return {x: (e.clientX - r.left) * canvas.width / r.width, y: (e.clientY - r.top) * canvas.height / r.height};
  }
  canvas.addEventListener("pointerdown", function (e) { last = at(e); canvas.setPointerCapture(e.pointerId); });
  canvas.addEventListener("pointermove", function (e) {
    if (!last) { return; }
    var p = at(e);
    ctx.beginPath(); ctx.moveTo(last.x, last.y); ctx.lineTo(p.x, p.y); ctx.stroke();
    last = p; drawn = true;
  });
  ["pointerup", "pointercancel", "pointerleave"].forEach(function (t) {
    canvas.addEventListener(t, function () { last = null; });
  });
  if (field.value.indexOf("data:image/png;base64,") === 0) {  // a drawing posted with a refused form: shown again
    var kept = new Image();
    kept.onload = function () { ctx.drawImage(kept, 0, 0, canvas.width, canvas.height); drawn = true; };
    kept.src = field.value;
  }
  pad.querySelector("[data-clear]").addEventListener("click", function () {
    ctx.clearRect(0, 0, canvas.width, canvas.height); drawn = false; field.value = "";
  });
  form.addEventListener("submit", function () { field.value = drawn ? canvas.toDataURL("image/png") : ""; });
}());
