// The session page: listening (with a reason), waveform lanes, seeking, the followed turn.
// No framework, no inline script (the page's CSP allows only this file).
"use strict";
(function () {
  const section = document.getElementById("player-section");
  if (!section) return;
  const sid = section.dataset.session;
  let durationMs = Number(section.dataset.durationMs) || 0;
  const player = document.getElementById("player");
  const lanes = Array.from(document.querySelectorAll(".lane"));
  const turns = Array.from(document.querySelectorAll("#transcript .turn"));
  const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  let wave = null;
  let current = null;

  function clock(ms) {
    const s = Math.max(0, ms) / 1000;
    const m = Math.floor(s / 60);
    return String(m).padStart(2, "0") + ":" + (s - m * 60).toFixed(1).padStart(4, "0");
  }

  function place() {
    if (!durationMs) return;
    document.querySelectorAll(".lane .mark").forEach(function (el) {
      const start = Number(el.dataset.startMs) || 0;
      el.style.left = Math.min(100, (start / durationMs) * 100) + "%";
      if (el.dataset.endMs !== undefined) {
        const end = Number(el.dataset.endMs) || start;
        el.style.width = Math.max(0.2, ((end - start) / durationMs) * 100) + "%";
      }
    });
  }

  function draw() {
    if (!wave) return;
    lanes.forEach(function (lane) {
      const canvas = lane.querySelector("canvas");
      const peaks = wave[lane.dataset.lane] || [];
      const w = canvas.clientWidth, h = canvas.clientHeight;
      const ratio = window.devicePixelRatio || 1;
      canvas.width = Math.max(1, Math.floor(w * ratio));
      canvas.height = Math.max(1, Math.floor(h * ratio));
      const ctx = canvas.getContext("2d");
      ctx.scale(ratio, ratio);
      ctx.clearRect(0, 0, w, h);
      ctx.fillStyle = lane.dataset.lane === "caller" ? "#1f6feb" : "#8250df";
      const step = w / Math.max(1, peaks.length);
      peaks.forEach(function (p, i) {
        const bar = Math.max(1, (p / 100) * (h - 2));
        ctx.fillRect(i * step, (h - bar) / 2, Math.max(1, step - 0.5), bar);
      });
    });
  }

  // Scroll the transcript, not the page, when it scrolls on its own (desktop); on a phone the
  // transcript is part of the page and the page scrolls.
  function reveal(item) {
    const list = item.parentElement;
    if (list.scrollHeight > list.clientHeight + 1) {
      const top = item.offsetTop, bottom = top + item.offsetHeight;
      if (top < list.scrollTop || bottom > list.scrollTop + list.clientHeight) {
        list.scrollTo({ top: top - list.clientHeight / 3, behavior: "smooth" });
      }
    } else {
      item.scrollIntoView({ block: "nearest", behavior: "smooth" });
    }
  }

  function follow() {
    const ms = player && !player.hidden ? player.currentTime * 1000 : 0;
    let found = null;
    for (const t of turns) {
      if (Number(t.dataset.startMs) <= ms) found = t; else break;
    }
    if (found && ms > Number(found.dataset.endMs) + 1500) found = null;
    if (found !== current) {
      if (current) { current.classList.remove("current"); current.removeAttribute("aria-current"); }
      if (found) {
        found.classList.add("current");
        found.setAttribute("aria-current", "true");
        reveal(found);
      }
      current = found;
    }
    const pct = durationMs ? Math.min(100, (ms / durationMs) * 100) : 0;
    lanes.forEach(function (lane) {
      lane.querySelector(".playhead").style.left = pct + "%";
      lane.setAttribute("aria-valuenow", (ms / 1000).toFixed(1));
      lane.setAttribute("aria-valuetext", clock(ms));
    });
  }

  function tick() {
    follow();
    if (player && !player.paused) window.requestAnimationFrame(tick);
  }

  function seek(ms) {
    if (!player || player.hidden) return false;
    player.currentTime = Math.max(0, ms) / 1000;
    follow();
    return true;
  }

  function status(text) {
    const el = document.getElementById("listen-status");
    if (el) el.textContent = text;
  }

  async function listen(event) {
    event.preventDefault();
    const reason = document.getElementById("listen-reason").value.trim();
    if (reason.length < 3) { status("Listening needs a reason (at least 3 characters)."); return; }
    const button = document.getElementById("listen-button");
    button.disabled = true;
    status("Loading the recording…");
    try {
      const res = await fetch("/console/sessions/" + encodeURIComponent(sid) + "/listen", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
        body: JSON.stringify({ reason: reason }),
      });
      const body = await res.json();
      if (!res.ok) { status("Could not load the recording: " + (body.detail || res.status)); return; }
      wave = body;
      durationMs = body.duration_ms || durationMs;
      const audio = await fetch(body.audio_url, { credentials: "same-origin" });
      if (!audio.ok) { status("Could not load the recording (" + audio.status + ")."); return; }
      player.src = URL.createObjectURL(await audio.blob());
      player.hidden = false;
      document.getElementById("listen-form").hidden = true;
      place();
      draw();
      status("Recording loaded (" + clock(durationMs) + "). Your reason is sealed in the access log.");
    } catch (err) {
      status("Could not load the recording: the network request failed.");
    } finally {
      button.disabled = false;
    }
  }

  const form = document.getElementById("listen-form");
  if (form) form.addEventListener("submit", listen);
  if (player) {
    ["play", "seeked", "timeupdate", "loadedmetadata"].forEach(function (name) {
      player.addEventListener(name, name === "play" ? tick : follow);
    });
  }

  lanes.forEach(function (lane) {
    lane.addEventListener("click", function (event) {
      const box = lane.getBoundingClientRect();
      seek(((event.clientX - box.left) / box.width) * durationMs);
    });
    lane.addEventListener("keydown", function (event) {
      if (!player || player.hidden) return;
      const now = player.currentTime * 1000;
      const moves = { ArrowLeft: now - 5000, ArrowRight: now + 5000, Home: 0, End: durationMs };
      if (event.key in moves) { event.preventDefault(); seek(moves[event.key]); }
      else if (event.key === " " || event.key === "Enter") {
        event.preventDefault();
        if (player.paused) player.play(); else player.pause();
      }
    });
  });

  document.querySelectorAll("#transcript > li").forEach(function (item) {
    item.addEventListener("click", function (event) {
      if (event.target.closest("a, input, textarea")) return;
      seek(Number(item.dataset.startMs) || 0);
    });
  });

  // A search hit links here with ?t=<ms>: mark the turn that matched.
  const at = new URLSearchParams(window.location.search).get("t");
  if (at !== null) {
    const hit = turns.find(function (t) { return t.dataset.startMs === at; });
    if (hit) { hit.classList.add("linked"); hit.scrollIntoView({ block: "center" }); }
  }
  place();
  window.addEventListener("resize", draw);
})();
