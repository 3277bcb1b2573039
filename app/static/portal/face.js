// Progressive enhancement of the face check: where the browser offers a camera (getUserMedia), take the photo
// in the page and put it into the form's file input; without it, the file input (capture="user") still works.
(function () {
  var open = document.getElementById('camera-open');
  var input = document.getElementById('photo');
  if (!open || !input || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || !window.DataTransfer) return;
  var box = document.getElementById('camera'), video = document.getElementById('camera-video');
  var shoot = document.getElementById('camera-shoot'), preview = document.getElementById('camera-preview');
  open.hidden = false;
  open.addEventListener('click', function () {
    navigator.mediaDevices.getUserMedia({video: {facingMode: 'user'}, audio: false}).then(function (stream) {
      video.srcObject = stream; video.play(); box.hidden = false; video.hidden = false; preview.hidden = true;
      open.hidden = true;
    }).catch(function () { open.textContent = '无法使用摄像头，请用上方按钮拍照或选择照片'; open.disabled = true; });
  });
  shoot.addEventListener('click', function () {
    var canvas = document.createElement('canvas');
    canvas.width = video.videoWidth || 640; canvas.height = video.videoHeight || 480;
    canvas.getContext('2d').drawImage(video, 0, 0, canvas.width, canvas.height);
    canvas.toBlob(function (blob) {
      var transfer = new DataTransfer();
      transfer.items.add(new File([blob], 'face.jpg', {type: 'image/jpeg'}));
      input.files = transfer.files;
      preview.src = URL.createObjectURL(blob); preview.hidden = false; video.hidden = true;
      if (video.srcObject) video.srcObject.getTracks().forEach(function (t) { t.stop(); });
      shoot.hidden = true; open.hidden = false; open.textContent = '重新拍照';
    }, 'image/jpeg', 0.9);
  });
}());
