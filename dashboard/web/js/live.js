// The live connection: /api/stream read with fetch() and parsed here, since
// EventSource cannot send an Authorization header. While the stream is down
// the page polls /api/metrics and reconnects with exponential backoff.

import { AuthError, authHeaders, getJSON } from './api.js';

// The server pings every 15 s; three missed pings mean the connection is
// dead even if the socket has not noticed.
const SILENCE_MS = 45000;
const MAX_BACKOFF_MS = 30000;

// SSEParser implements the event-stream format: lines ending in CRLF, LF or
// CR; "field: value" lines; a blank line dispatches the event; lines
// starting with ':' are comments.
export class SSEParser {
  constructor(onEvent) {
    this.onEvent = onEvent;
    this.buf = '';
    this.type = '';
    this.data = [];
    this.retry = null;
  }

  push(chunk) {
    const buf = this.buf + chunk;
    let start = 0;
    for (let i = 0; i < buf.length; i++) {
      const c = buf.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      // A CR at the very end may be the first half of a CRLF split across
      // chunks: wait for the next chunk to tell.
      if (c === 13 && i === buf.length - 1) break;
      this.line(buf.slice(start, i));
      if (c === 13 && buf.charCodeAt(i + 1) === 10) i++;
      start = i + 1;
    }
    this.buf = buf.slice(start);
  }

  line(line) {
    if (line === '') {
      if (this.data.length > 0) this.onEvent(this.type || 'message', this.data.join('\n'));
      this.type = '';
      this.data = [];
      return;
    }
    if (line[0] === ':') return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value[0] === ' ') value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.type = value;
    else if (field === 'retry' && /^\d+$/.test(value)) this.retry = Number(value);
  }
}

// Live keeps the page fed. Callbacks:
//   onReport(report)  a report, from the stream or from a poll
//   onAlert(alert)    an alert transition
//   onCalls(calls)    the calls recorded since the last such event:
//                     {calls: [...newest first], skipped}
//   onStatus(status)  {mode: connecting|live|reconnecting|offline, pollSeconds}
//   onAuth()          a request was answered 401; Live has stopped
export class Live {
  constructor({ pollSeconds, onReport, onAlert, onCalls, onStatus, onAuth }) {
    this.pollMs = Math.max(1, pollSeconds || 30) * 1000;
    this.cb = { onReport, onAlert, onCalls, onStatus, onAuth };
    this.stopped = true;
    this.attempt = 0;
    this.retryMs = 3000;
  }

  start() {
    this.stopped = false;
    this.status('connecting');
    this.connect();
    this.watchdog = setInterval(() => {
      if (this.ctrl && this.lastByte && Date.now() - this.lastByte > SILENCE_MS) this.ctrl.abort();
    }, 5000);
  }

  stop() {
    this.stopped = true;
    clearInterval(this.watchdog);
    clearTimeout(this.reconnectTimer);
    this.stopPolling();
    if (this.ctrl) this.ctrl.abort();
    this.ctrl = null;
  }

  status(mode) {
    this.mode = mode;
    this.cb.onStatus({ mode, pollSeconds: this.pollMs / 1000 });
  }

  async connect() {
    const ctrl = new AbortController();
    this.ctrl = ctrl;
    this.lastByte = Date.now();
    try {
      const res = await fetch('/api/stream', { headers: authHeaders(), signal: ctrl.signal, cache: 'no-store' });
      if (res.status === 401) {
        this.stop();
        this.cb.onAuth();
        return;
      }
      if (!res.ok || !res.body) throw new Error(`stream: HTTP ${res.status}`);
      const parser = new SSEParser((type, data) => this.event(type, data));
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        this.lastByte = Date.now();
        // Live once the server has really spoken, not merely answered: a
        // proxy can accept the request and close it at once.
        if (this.mode !== 'live') {
          this.status('live');
          this.stopPolling();
        }
        parser.push(value);
        if (parser.retry != null) this.retryMs = parser.retry;
      }
    } catch {
      // A dropped connection or our own abort; handled below either way.
    }
    if (this.ctrl === ctrl) this.ctrl = null;
    if (!this.stopped) this.dropped();
  }

  event(type, data) {
    let v;
    try {
      v = JSON.parse(data);
    } catch {
      return;
    }
    if (type === 'sample') {
      // A sample proves the stream healthy: the next drop starts the
      // backoff afresh.
      this.attempt = 0;
      this.cb.onReport(v);
    } else if (type === 'alert') {
      this.cb.onAlert(v);
    } else if (type === 'calls' && this.cb.onCalls) {
      this.cb.onCalls(v);
    }
  }

  dropped() {
    this.status('reconnecting');
    this.startPolling();
    const base = Math.max(1000, this.retryMs) * 2 ** Math.min(this.attempt, 5);
    const delay = Math.min(MAX_BACKOFF_MS, base) * (0.8 + Math.random() * 0.4);
    this.attempt++;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => {
      if (!this.stopped) this.connect();
    }, delay);
  }

  startPolling() {
    if (this.pollTimer) return;
    this.poll();
    this.pollTimer = setInterval(() => this.poll(), this.pollMs);
  }

  stopPolling() {
    clearInterval(this.pollTimer);
    this.pollTimer = null;
  }

  async poll() {
    try {
      const report = await getJSON('/api/metrics');
      if (this.stopped || this.mode === 'live') return;
      this.status('reconnecting');
      this.cb.onReport(report);
    } catch (e) {
      if (e instanceof AuthError) {
        this.stop();
        this.cb.onAuth();
        return;
      }
      if (!this.stopped && this.mode !== 'live') this.status('offline');
    }
  }
}
