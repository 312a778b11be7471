// The console's camera: a snapshot from getUserMedia becomes the form's file, so the photo
// is sent exactly like an upload (and, like one, is never kept). Nothing leaves the page but
// that form post. Without a camera, or if the person refuses it, the file field remains.
"use strict";
(function () {
  function setup(box) {
    var input = document.getElementById(box.getAttribute("data-camera-for"));
    var start = box.querySelector("[data-camera-start]");
    var snap = box.querySelector("[data-camera-snap]");
    var video = box.querySelector("[data-camera-video]");
    var status = box.querySelector("[data-camera-status]");
    var stream = null;
    box.hidden = false;
    start.addEventListener("click", function () {
      navigator.mediaDevices.getUserMedia({ video: { facingMode: "user" }, audio: false })
        .then(function (s) {
          stream = s; video.srcObject = s; video.hidden = false; snap.hidden = false;
          return video.play();
        })
        .catch(function () { status.textContent = status.getAttribute("data-denied"); });
    });
    snap.addEventListener("click", function () {
      var canvas = document.createElement("canvas");
      canvas.width = video.videoWidth; canvas.height = video.videoHeight;
      canvas.getContext("2d").drawImage(video, 0, 0);
      canvas.toBlob(function (blob) {
        var files = new DataTransfer();
        files.items.add(new File([blob], "camera.jpg", { type: "image/jpeg" }));
        input.files = files.files;
        status.textContent = status.getAttribute("data-taken");
        if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); }
        video.hidden = true; snap.hidden = true;
      }, "image/jpeg", 0.92);
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) { return; }
    var boxes = document.querySelectorAll("[data-camera-for]");
    for (var i = 0; i < boxes.length; i++) { setup(boxes[i]); }
  });
})();
