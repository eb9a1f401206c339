// The chat room's browser client: one WebSocket, text-only rendering, reconnect with backoff and jitter.
"use strict";

(function () {
  const room = document.getElementById("chat");
  if (!room) {
    return;
  }
  const messages = document.getElementById("chat-messages");
  const form = document.getElementById("chat-form");
  const input = document.getElementById("chat-input");
  const status = document.getElementById("chat-status");
  const SESSION_ENDED = 4001;
  const TOO_MANY_SOCKETS = 4029; // the server's cap on chat sockets per session or account
  const MAX_DELAY_MS = 30000;
  let socket = null;
  let attempt = 0;
  let stopped = false;

  function socketUrl() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    return scheme + "//" + location.host + room.dataset.socketPath;
  }

  function showStatus(text, state) {
    status.textContent = text;
    status.dataset.state = state;
    room.dataset.state = state;
  }

  function addLine(kind, user, text) {
    const item = document.createElement("li");
    item.className = "chat-" + kind;
    if (user) {
      const who = document.createElement("strong");
      who.className = "chat-user";
      who.textContent = user;
      item.append(who, " ");
    }
    const body = document.createElement("span");
    body.className = "chat-text";
    body.textContent = text;
    item.append(body);
    messages.append(item);
    messages.scrollTop = messages.scrollHeight;
  }

  function showBackend(connected) {
    if (connected) {
      showStatus("Connected", "open");
    } else {
      showStatus("The chat is unavailable right now; messages cannot be sent.", "unavailable");
    }
  }

  function handle(message) {
    if (message.type === "message") {
      addLine("message", message.user, message.text);
    } else if (message.type === "welcome") {
      room.dataset.user = message.user;
      showBackend(message.connected);
    } else if (message.type === "status") {
      showBackend(message.connected);
    } else if (message.type === "error") {
      addLine("error", "", message.error);
    }
  }

  function reconnectLater() {
    const ceiling = Math.min(MAX_DELAY_MS, 500 * 2 ** attempt);
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    attempt += 1;
    showStatus("Chat disconnected; reconnecting in " + Math.ceil(delay / 1000) + " s.", "unavailable");
    window.setTimeout(connect, delay);
  }

  function connect() {
    if (stopped) {
      return;
    }
    showStatus("Connecting…", "connecting");
    socket = new WebSocket(socketUrl());
    socket.onopen = function () {
      attempt = 0;
    };
    socket.onmessage = function (event) {
      handle(JSON.parse(event.data));
    };
    socket.onerror = function () {
      showStatus("Connection problem.", "unavailable");
    };
    socket.onclose = function (event) {
      socket = null;
      if (event.code === SESSION_ENDED) {
        stopped = true;
        showStatus("Your session has ended. Sign in again to chat.", "ended");
      } else if (event.code === TOO_MANY_SOCKETS) {
        stopped = true;
        showStatus("The chat is open in too many windows. Close one, then reload this page.", "ended");
      } else if (!stopped) {
        reconnectLater();
      }
    };
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) {
      return;
    }
    if (!socket || socket.readyState !== WebSocket.OPEN) {
      addLine("error", "", "Not connected; your message was not sent.");
      return;
    }
    socket.send(JSON.stringify({ type: "message", text: text }));
    input.value = "";
  });

  window.addEventListener("pagehide", function () {
    stopped = true;
    if (socket) {
      socket.close(1000, "page closed");
    }
  });

  connect();
})();
