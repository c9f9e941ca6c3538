/* paperlink entry screen: keyboard shortcuts, Enter-to-advance, live check characters, webcam capture,
   drag-and-drop upload. No inline script anywhere (Content-Security-Policy script-src 'self'). */
"use strict";

(function () {
  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function post(url, body, contentType) {
    return fetch(url, {
      method: "POST", credentials: "same-origin", body: body,
      headers: { "X-CSRFToken": csrfToken(), "Content-Type": contentType }
    });
  }

  /* -- shortcuts: Alt+1..6 menu, Alt+C confirm -------------------------------------------------- */
  document.addEventListener("keydown", function (event) {
    if (!event.altKey || event.ctrlKey || event.metaKey) { return; }
    var digit = /^Digit([0-9])$/.exec(event.code || "");
    if (digit) {
      var link = document.querySelector('[data-shortcut="' + digit[1] + '"]');
      if (link) { event.preventDefault(); window.location.href = link.getAttribute("href"); }
      return;
    }
    if (event.code === "KeyC") {
      var button = document.getElementById("confirm-button");
      if (button) { event.preventDefault(); button.click(); }
    }
  });

  /* -- confirm: no button has the focus on arrival, and the button waits until the page has been in view
     for a moment; a held-down Enter (key repeat) never confirms -------------------------------------- */
  var confirmButton = document.getElementById("confirm-button");
  if (confirmButton) {
    var guard = parseInt(confirmButton.dataset.guard || "1200", 10);
    var label = confirmButton.textContent;
    var arm = function () {
      confirmButton.textContent = "画面を確認してください…";
      setTimeout(function () {
        confirmButton.disabled = false;
        confirmButton.dataset.ready = "1";
        confirmButton.textContent = label;
      }, guard);
    };
    if (document.visibilityState === "visible") { arm(); }
    else {
      document.addEventListener("visibilitychange", function once() {
        if (document.visibilityState === "visible") { document.removeEventListener("visibilitychange", once); arm(); }
      });
    }
    document.addEventListener("keydown", function (event) {
      if (event.key !== "Enter" || event.altKey || event.ctrlKey) { return; }
      var tag = (event.target && event.target.tagName) || "";
      if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || tag === "A") { return; }
      if (tag === "BUTTON" && event.target !== confirmButton) { return; }
      event.preventDefault();
      if (event.repeat || confirmButton.disabled) { return; }
      confirmButton.click();
    });
  }

  /* -- the page image: click (or Enter on it) to see it at full size -------------------------------- */
  var pageImage = document.getElementById("page-image");
  if (pageImage) {
    var toggle = function () {
      var zoomed = pageImage.closest(".image-pane").classList.toggle("zoomed");
      pageImage.setAttribute("aria-pressed", zoomed ? "true" : "false");
    };
    pageImage.addEventListener("click", toggle);
  }

  /* -- Enter advances to the next field; on the last field (or Ctrl+Enter) the form is submitted -- */
  function fieldsOf(form) {
    return Array.prototype.filter.call(form.querySelectorAll("input, select, textarea"), function (el) {
      return el.type !== "hidden" && el.type !== "checkbox" && !el.disabled && !el.readOnly &&
        !el.classList.contains("kcheck");
    });
  }

  document.querySelectorAll("form[data-enter-advances]").forEach(function (form) {
    form.addEventListener("keydown", function (event) {
      if (event.key !== "Enter" || event.isComposing || event.keyCode === 229) { return; }
      var target = event.target;
      if (target.tagName === "TEXTAREA" || target.tagName === "BUTTON") { return; }
      event.preventDefault();
      if (event.ctrlKey) { form.requestSubmit(); return; }
      var fields = fieldsOf(form);
      var index = fields.indexOf(target);
      if (target.classList.contains("kcheck")) {
        index = fields.indexOf(document.getElementById("in-" + target.dataset.for));
      }
      if (index >= 0 && index < fields.length - 1) { fields[index + 1].focus(); fields[index + 1].select(); }
      else { form.requestSubmit(); }
    });
  });

  /* -- live check characters in the entry form ---------------------------------------------------- */
  var entryForm = document.getElementById("entry-form");
  if (entryForm) {
    var checkUrl = entryForm.dataset.checkUrl;
    var latest = {};
    var compare = function (key) {
      var k = document.getElementById("k-" + key);
      if (!k) { return; }
      var typed = k.value.trim().toUpperCase();
      var field = k.closest(".field");
      k.classList.remove("match", "mismatch");
      if (field) { field.classList.remove("check-mismatch"); }
      var bad = false;
      if (typed.length === 2 && latest[key]) {
        bad = typed !== latest[key];
        k.classList.add(bad ? "mismatch" : "match");
      } else if (typed.length === 2) {
        bad = true;
        k.classList.add("mismatch");
      }
      if (bad && field) { field.classList.add("check-mismatch"); }
    };
    var show = function (key, data) {
      var out = document.getElementById("chk-" + key);
      if (!out) { return; }
      out.textContent = "";
      out.classList.remove("bad");
      latest[key] = data.ok && data.check ? data.check : "";
      if (!data.ok) {
        out.classList.add("bad");
        out.textContent = data.error || "";
      } else if (!data.empty) {
        out.appendChild(document.createTextNode("→ " + data.value));
        var chip = document.createElement("span");
        chip.className = "check";
        chip.dataset.testid = "check-" + key;
        if (data.check) {
          chip.textContent = "検 " + data.check;
          out.appendChild(chip);
        }
      }
      compare(key);
    };
    var timers = {};
    entryForm.querySelectorAll("input[data-check-key]").forEach(function (input) {
      var key = input.dataset.checkKey;
      var run = function () {
        post(checkUrl, JSON.stringify({ key: key, value: input.value }), "application/json")
          .then(function (r) { return r.json(); })
          .then(function (data) { show(key, data); })
          .catch(function () { /* a failed check only leaves the display empty */ });
      };
      input.addEventListener("input", function () {
        clearTimeout(timers[key]);
        timers[key] = setTimeout(run, 250);
      });
      if (input.value) { run(); }
    });
    entryForm.querySelectorAll("input.kcheck").forEach(function (k) {
      k.addEventListener("input", function () { compare(k.dataset.for); });
      if (k.value) { compare(k.dataset.for); }
    });
  }

  /* -- drag-and-drop upload ---------------------------------------------------------------------- */
  var zone = document.getElementById("dropzone");
  var fileInput = document.getElementById("files-input");
  if (zone && fileInput) {
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (event) { event.preventDefault(); zone.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (name) {
      zone.addEventListener(name, function () { zone.classList.remove("over"); });
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      if (event.dataTransfer && event.dataTransfer.files.length) {
        fileInput.files = event.dataTransfer.files;
        document.getElementById("files-form").requestSubmit();
      }
    });
    fileInput.addEventListener("change", function () {
      zone.textContent = fileInput.files.length + " 個のファイルを選びました。Enter で読み取ります。";
      if (fileInput.files.length) { document.getElementById("files-submit").focus(); }
    });
    fileInput.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && fileInput.files.length) {
        event.preventDefault();
        document.getElementById("files-form").requestSubmit();
      }
    });
  }

  /* -- webcam: a frame every ~150 ms to the server; beep and move on when a sheet is read ---------- */
  var camera = document.getElementById("camera");
  if (camera) {
    var video = document.getElementById("camera-video");
    var canvas = document.getElementById("camera-canvas");
    var status = document.getElementById("camera-status");
    var interval = parseInt(camera.dataset.interval || "150", 10);
    var frameUrl = camera.dataset.frameUrl;
    var stopped = false;

    var misses = 0;
    var missSince = 0;
    var lastHint = 0;
    var HINT_AFTER_MS = 3000;
    var beep = function (duplicate) {
      try {
        var AudioCtx = window.AudioContext || window.webkitAudioContext;
        var ctx = new AudioCtx();
        var osc = ctx.createOscillator();
        var gain = ctx.createGain();
        osc.type = "sine";
        osc.frequency.value = duplicate ? 440 : 1320;
        gain.gain.value = 0.25;
        osc.connect(gain);
        gain.connect(ctx.destination);
        osc.start();
        osc.stop(ctx.currentTime + (duplicate ? 0.45 : 0.15));
      } catch (e) { /* no sound available */ }
    };

    var say = function (text, kind) {
      status.textContent = text;
      camera.classList.remove("found", "problem", "advice");
      if (kind) { camera.classList.add(kind); }
    };

    var grab = function () {
      if (stopped) { return; }
      if (!video.videoWidth) { setTimeout(grab, interval); return; }
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      canvas.getContext("2d").drawImage(video, 0, 0);
      canvas.toBlob(function (blob) {
        if (!blob) { setTimeout(grab, interval); return; }
        var now = Date.now();
        var wantHint = missSince && now - missSince > HINT_AFTER_MS && now - lastHint > 1000;
        if (wantHint) { lastHint = now; }
        post(frameUrl + (wantHint ? "?hint=1" : ""), blob, "image/jpeg")
          .then(function (r) { return r.json(); })
          .then(function (data) {
            if (!data.found) {
              misses += 1;
              if (!missSince) { missSince = Date.now(); }
              if (data.hint) { say(data.hint, "advice"); camera.dataset.hint = data.hintCode || ""; }
              setTimeout(grab, interval);
              return;
            }
            missSince = 0;
            if (data.ok && data.next) {
              stopped = true;
              beep(data.duplicate);
              say(data.message, "found");
              window.location.href = data.next;
              return;
            }
            if (data.next) { stopped = true; say(data.message, "problem"); window.location.href = data.next; return; }
            say(data.message, "problem");
            setTimeout(function () { say("読み取り中…（用紙の QR コードをカメラに向けてください）"); grab(); }, 3000);
          })
          .catch(function () { setTimeout(grab, 1000); });
      }, "image/jpeg", 0.85);
    };

    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      say("このブラウザーではカメラを使えません。ファイルかスキャナーで読み取ってください。", "problem");
    } else {
      navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 1280 }, height: { ideal: 720 }, facingMode: "environment" }, audio: false })
        .then(function (stream) {
          video.srcObject = stream;
          say("読み取り中…（用紙の QR コードをカメラに向けてください）");
          grab();
        })
        .catch(function () {
          say("カメラを起動できませんでした。カメラの接続と、ブラウザーのカメラの許可を確認してください。", "problem");
        });
    }
  }
}());
