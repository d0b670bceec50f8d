/* The session timeout warning (GOV.UK pattern), for templates/_timeout_warning.html.
 *
 * A modal dialog opens shortly before the session ends. "Stay signed in" posts
 * /session/extend with the page's CSRF token and starts the count again; Escape does the
 * same. If time runs out, the form being typed in (if any) is sent to /drafts, which keeps
 * its values for this person, and the page goes to sign in; after signing in again the
 * form comes back filled in. No inline script: the CSP allows scripts from this site. */
(function () {
  "use strict";
  var dialog = document.getElementById("timeout-warning");
  if (!dialog || typeof dialog.showModal !== "function" || !window.fetch) {
    return;
  }
  var warnS = Number(dialog.getAttribute("data-warn-s"));
  var extendForm = dialog.querySelector(".timeout-warning-extend");
  var countdowns = dialog.querySelectorAll(".timeout-warning-countdown");
  var live = dialog.querySelector(".timeout-warning-live");
  var extendable = dialog.querySelector(".timeout-warning-extendable");
  var finalText = dialog.querySelector(".timeout-warning-final");
  var deadline = 0;
  var canExtend = true;
  var warnTimer = null;
  var tickTimer = null;
  var lastSpoken = null;
  var returnFocus = null;
  var typedIn = null;

  function seconds(value) {
    return value === null || value === "" ? null : Number(value);
  }

  function words(left) {
    if (left >= 60) {
      var minutes = Math.ceil(left / 60);
      return minutes + (minutes === 1 ? " minute" : " minutes");
    }
    return left + (left === 1 ? " second" : " seconds");
  }

  function schedule(idleS, endsInS) {
    var left = endsInS === null ? idleS : Math.min(idleS, endsInS);
    canExtend = endsInS === null || endsInS > idleS;
    deadline = Date.now() + left * 1000;
    window.clearTimeout(warnTimer);
    window.clearInterval(tickTimer);
    warnTimer = window.setTimeout(openWarning, Math.max(0, (left - warnS) * 1000));
  }

  function openWarning() {
    extendable.hidden = !canExtend;
    finalText.hidden = canExtend;
    extendForm.hidden = !canExtend;
    returnFocus = document.activeElement;
    lastSpoken = null;
    tick();
    dialog.showModal();
    tickTimer = window.setInterval(tick, 1000);
  }

  function closeWarning() {
    window.clearInterval(tickTimer);
    if (dialog.open) {
      dialog.close();
    }
    if (returnFocus && typeof returnFocus.focus === "function") {
      returnFocus.focus();
    }
  }

  function tick() {
    var left = Math.round((deadline - Date.now()) / 1000);
    if (left <= 0) {
      window.clearInterval(tickTimer);
      timedOut();
      return;
    }
    var text = words(left);
    for (var i = 0; i < countdowns.length; i += 1) {
      countdowns[i].textContent = text;
    }
    // Screen readers hear the time at the start, then each minute, then every 20 seconds.
    var step = left > 60 ? Math.ceil(left / 60) * 60 : Math.ceil(left / 20) * 20;
    if (step !== lastSpoken) {
      lastSpoken = step;
      live.textContent = (canExtend ? "You will be signed out in " : "Your sign-in ends in ") + text + ".";
    }
  }

  function post(url, body) {
    return window.fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      redirect: "manual",
      headers: { Accept: "application/json" }
    }).then(function (response) {
      return response.ok ? response.json() : null;
    }, function () {
      return null;
    });
  }

  function toSignIn() {
    var query = "?next=" + encodeURIComponent(window.location.pathname) + "&ended=1";
    window.location.assign("/signin" + query);
  }

  function stay() {
    post("/session/extend", new FormData(extendForm)).then(function (answer) {
      if (answer && answer.signed_in) {
        closeWarning();
        schedule(answer.idle_s, seconds(answer.ends_in_s));
      } else {
        timedOut();
      }
    });
  }

  function timedOut() {
    if (!typedIn) {
      toSignIn();
      return;
    }
    // Keep the form being typed in (POST /drafts). Still signed in (another tab kept the
    // session going): 204, carry on here. Signed out: the server keeps it all the same and
    // redirects to the sign-in page, which says so.
    var body = new FormData(typedIn);
    body.append("draft_path", window.location.pathname);
    window.fetch("/drafts", { method: "POST", body: body, credentials: "same-origin" })
      .then(function (response) {
        if (response.status === 204) {
          closeWarning();
          schedule(Number(dialog.getAttribute("data-idle-s")), null);
        } else if (response.redirected && new URL(response.url).pathname === "/signin") {
          window.location.assign(response.url);
        } else {
          toSignIn();
        }
      }, function () {
        toSignIn();
      });
  }

  function noteTyping(event) {
    var form = event.target && event.target.form;
    if (form && !dialog.contains(form) && (form.method || "").toLowerCase() === "post") {
      typedIn = form;
    }
  }

  document.addEventListener("input", noteTyping);
  document.addEventListener("change", noteTyping);
  document.addEventListener("submit", function (event) {
    if (event.target === typedIn) {
      typedIn = null;
    }
  });
  extendForm.addEventListener("submit", function (event) {
    event.preventDefault();
    stay();
  });
  dialog.addEventListener("cancel", function (event) {
    event.preventDefault(); // Escape means "stay signed in", as the GOV.UK pattern has it
    if (canExtend) {
      stay();
    }
  });

  schedule(
    Number(dialog.getAttribute("data-idle-s")),
    seconds(dialog.getAttribute("data-ends-in-s"))
  );
})();
