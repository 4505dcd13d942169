// What every view shares: the signed-in session, the status line, and the
// current view's keyboard handler.
import { ApiError } from './api.js';

export const session = { role: '', keyId: '', expiresMs: 0 };

let keyHandler = null;
// The current view's keyboard handler (the queue's, an entry's), or null.
// It returns true when it used the key.
export function setKeyHandler(fn) { keyHandler = fn; }
export function keyHandlerNow() { return keyHandler; }

export function say(text, isError = false) {
  const line = document.getElementById('status');
  line.textContent = text;
  line.classList.toggle('error', isError);
}

export function errorText(e) {
  return e instanceof ApiError ? `${e.message} (${e.code})` : String((e && e.message) || e);
}

export function sayError(e) { say(errorText(e), true); }
