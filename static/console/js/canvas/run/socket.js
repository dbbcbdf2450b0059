// One run's websocket (/ws/runs/<id>/): a snapshot on every connect, then live events.
//
// A dropped connection is retried with exponential backoff (1 s, 2 s, 4 s ... at most 15 s);
// each new connection starts with a fresh snapshot, which the caller applies in full, so
// events missed while disconnected cannot leave the page stale. Retrying stops once the run
// has finished, when the caller closes the socket, or when the server refuses the user
// (4401: not logged in, 4403: not a member of the project), since a retry cannot change that.
// A refusal during the handshake reaches browsers only as an abnormal closure (1006), like a
// network failure; so when a connection closes without ever opening, the caller's
// `diagnose()` asks the API why, and a refusal it names stops the retries too.

import { FINISHED } from "./dom.js";
import { gettext } from "../../lib/i18n.js";

const FIRST_DELAY_MS = 1000;
const MAX_DELAY_MS = 15000;
export const REFUSED = {
  4401: gettext("You are no longer logged in: log in again to watch this run."),
  4403: gettext("You may not watch this run: your node is not a member of its project."),
};

export class RunSocket {
  /**
   * @param {string} url absolute ws(s):// address of the run's socket
   * @param {object} handlers onSnapshot(run), onEvent(event), onState(state, detail)
   *   where state is "connecting" | "live" | "reconnecting" | "closed" | "refused"; and
   *   diagnose() -> Promise of a refusal message, or null when retrying may help.
   */
  constructor(url, handlers) {
    this.url = url;
    this.handlers = handlers;
    this.attempt = 0;
    this.finished = false;
    this.stopped = false;
    this.socket = null;
    this.timer = null;
  }

  start() {
    this.stopped = false;
    this.connect();
    return this;
  }

  /** Stop for good (another run is shown, or the page goes away). */
  close() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.socket) this.socket.close(1000);
    this.socket = null;
  }

  /** Drop the current connection as a network failure would (reconnects as usual). */
  drop() {
    if (this.socket) this.socket.close(4000, "dropped");
  }

  connect() {
    this.handlers.onState(this.attempt ? "reconnecting" : "connecting", { attempt: this.attempt });
    const socket = new WebSocket(this.url);
    this.socket = socket;
    this.opened = false;
    socket.addEventListener("open", () => {
      this.opened = true;
    });
    socket.addEventListener("message", (message) => this.receive(socket, message));
    socket.addEventListener("close", (event) => this.closed(socket, event));
  }

  receive(socket, message) {
    if (socket !== this.socket) return;
    let event;
    try {
      event = JSON.parse(message.data);
    } catch {
      return;
    }
    if (event.type === "run.snapshot") {
      this.attempt = 0;
      this.finished = FINISHED.has(event.run.status);
      this.handlers.onState("live", {});
      this.handlers.onSnapshot(event.run);
    } else {
      if (event.type === "run.status" && FINISHED.has(event.status)) this.finished = true;
      this.handlers.onEvent(event);
    }
    // Nothing more will happen on a finished run: free the server's connection.
    if (this.finished) {
      this.stopped = true;
      socket.close(1000);
      this.handlers.onState("closed", {});
    }
  }

  async closed(socket, event) {
    if (socket !== this.socket) return;
    this.socket = null;
    if (this.stopped || this.finished) return;
    let refusal = REFUSED[event.code];
    if (!refusal && !this.opened && this.handlers.diagnose) refusal = await this.handlers.diagnose();
    if (this.stopped) return;
    if (refusal) {
      this.stopped = true;
      this.handlers.onState("refused", { code: event.code, message: refusal });
      return;
    }
    const delay = Math.min(FIRST_DELAY_MS * 2 ** this.attempt, MAX_DELAY_MS);
    this.attempt += 1;
    this.handlers.onState("reconnecting", { attempt: this.attempt, delay });
    this.timer = setTimeout(() => {
      if (!this.stopped) this.connect();
    }, delay);
  }
}
