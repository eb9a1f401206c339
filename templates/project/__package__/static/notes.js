// Upgrades the notes form to the JSON API: create and delete without reloading the page.
// Unsafe requests carry the _xsrf cookie's value in the X-XSRFToken header; text is set with textContent.
"use strict";

(function () {
  const form = document.getElementById("note-form");
  const list = document.getElementById("notes");
  const errorBox = document.getElementById("notes-error");
  if (!form || !list) return;
  const api = form.dataset.api;

  function xsrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)_xsrf=([^;]*)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  async function callApi(method, url, data) {
    const response = await fetch(url, {
      method: method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-XSRFToken": xsrfToken(), "Accept": "application/json" },
      body: data === undefined ? undefined : JSON.stringify(data),
    });
    if (!response.ok) {
      const payload = await response.json().catch(() => ({}));
      const error = payload.error || {};
      throw new Error(error.message || error.reason || "Request failed (" + response.status + ")");
    }
    return response.status === 204 ? null : response.json();
  }

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = !message;
  }

  function noteItem(note) {
    const item = document.createElement("li");
    item.dataset.id = note.id;
    const title = document.createElement("strong");
    title.textContent = note.title;
    const body = document.createElement("span");
    body.textContent = note.body;
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "delete";
    remove.dataset.id = note.id;
    remove.textContent = "Delete";
    item.append(title, " ", body, remove);
    return item;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = { title: form.elements.title.value, body: form.elements.body.value };
    try {
      const note = await callApi("POST", api, data);
      list.prepend(noteItem(note));
      form.reset();
      showError("");
    } catch (error) {
      showError(error.message);
    }
  });

  list.addEventListener("click", async (event) => {
    const button = event.target.closest("button.delete");
    if (!button) return;
    try {
      await callApi("DELETE", api + "/" + encodeURIComponent(button.dataset.id));
      button.closest("li").remove();
      showError("");
    } catch (error) {
      showError(error.message);
    }
  });
})();
