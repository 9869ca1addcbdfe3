// The Calls tab: the log of recent MCP calls, newest first, read from
// /api/calls and kept current by the stream's "calls" events; above it the
// sessions and clients behind those calls, from /api/sessions.
//
// The log is a view, not the record: it keeps a few hundred rows, and the
// server's ring of recent calls (paged with "Load older") holds the rest.
// Every string from the server is set as text (see util.js).

import { AuthError, getJSON } from './api.js';
import { $, $$, absTime, breakable, bytesText, durationText, el, fmt, isNum, setText, timeCell } from './util.js';

const PAGE = 100; // calls per /api/calls request
const MAX_ROWS = 500; // rows the live log keeps; the oldest go first
const HARD_MAX_ROWS = 2000; // what "Load older" may grow the log to
const MAX_FETCH = 1000; // the API's largest page
const SESSIONS_EVERY = 2000; // ms between two /api/sessions requests
const FILTER_DELAY = 300; // ms of typing quiet before a filter applies

// The filters, named as /api/calls' query parameters.
const FILTERS = ['tool', 'method', 'client', 'session', 'outcome', 'min_ms', 'q'];

// JSON-RPC and MCP error codes, for the outcome's title.
const CODES = {
  '-32700': 'parse error',
  '-32600': 'invalid request',
  '-32601': 'method not found',
  '-32602': 'invalid params',
  '-32603': 'internal error',
  '-32002': 'resource not found',
};

// The outcomes offered by the filter before any is seen; codes seen in the
// log are added as they come.
const OUTCOMES = [
  ['', 'any outcome'], ['failed', 'failed (any failure)'], ['ok', 'ok'], ['tool_error', 'tool_error'],
  ['cancelled', 'cancelled'], ['error', 'error (no code)'], ['-32600', '-32600'], ['-32601', '-32601'],
  ['-32602', '-32602'], ['-32603', '-32603'], ['upstream_error', 'upstream_error'],
  ['upstream_exit', 'upstream_exit'], ['no_response', 'no_response'],
];

const NONE = '—';

let onError = () => {};

const log = {
  opened: false,
  filter: Object.fromEntries(FILTERS.map((f) => [f, ''])),
  ids: [], // the ids shown, newest first
  calls: new Map(), // id -> call
  rows: new Map(), // id -> tr
  hasOlder: false,
  cap: MAX_ROWS,
  paused: false,
  pending: 0, // calls that matched while paused
  skipped: 0, // calls the stream left out since the log was last fetched
  gen: 0, // bumped by every fetch that replaces or extends the log
  loading: false,
  queue: [], // calls streamed while a fetch was in flight
  queueSkipped: 0, // and how many the stream left out meanwhile
  seen: { tool: new Set(), method: new Set(), client: new Set(), outcome: new Set(OUTCOMES.map(([v]) => v)) },
};

const sess = { data: null, at: 0, timer: 0, busy: false, again: false, visible: false };

// ---------------------------------------------------------------- formatting

const clock = new Intl.DateTimeFormat(undefined, {
  hour: '2-digit', minute: '2-digit', second: '2-digit', fractionalSecondDigits: 3, hourCycle: 'h23',
});

// outcomeKind sorts an outcome into what colours it.
function outcomeKind(o) {
  if (o === 'ok') return 'ok';
  if (o === 'tool_error') return 'tool';
  if (o === 'cancelled') return 'cancelled';
  if (/^-?\d+$/.test(o)) return 'protocol';
  if (o.startsWith('upstream_') || o === 'no_response' || o.startsWith('http_')) return 'upstream';
  return 'error';
}

const KIND_TEXT = {
  ok: 'succeeded',
  tool: 'the tool answered with isError',
  cancelled: 'cancelled before its answer',
  protocol: 'JSON-RPC error',
  upstream: 'the server behind the tunnel failed',
  error: 'failed without an error code',
};

// outcomeMeaning says what an outcome means, in words.
function outcomeMeaning(o) {
  const kind = outcomeKind(o);
  if (kind === 'protocol') return CODES[o] ? `JSON-RPC error: ${CODES[o]}` : 'JSON-RPC error';
  if (o.startsWith('http_')) return `the server behind the tunnel answered HTTP ${o.slice(5)}`;
  return KIND_TEXT[kind];
}

const outcomeTitle = (o) => `${o}: ${outcomeMeaning(o)}`;

const outcomeChip = (o) => el('span', { className: 'outcome', title: outcomeTitle(o), dataset: { kind: outcomeKind(o) } }, o);

// orNone shows a figure that may not have been measured: "—" for null,
// never 0.
const orNone = (v, f) => (isNum(v) ? f(v) : NONE);

const bytes = bytesText;

// bytesCell shows a size briefly, exactly on hover.
const bytesCell = (v, what) => el('td', {
  className: isNum(v) ? 'num' : 'num none',
  title: isNum(v) ? `${what}: ${fmt.count(v)} bytes` : `${what}: not measured`,
}, bytes(v));

const clientText = (c) => (c && (c.name || c.version) ? [c.name || '(no name)', c.version].filter(Boolean).join(' ') : NONE);
const shortId = (id) => (id.length > 10 ? `${id.slice(0, 8)}…` : id);

function sessionText(id, transport) {
  if (id) return shortId(id);
  return transport === 'stdio' ? 'stdio' : NONE;
}

// ---------------------------------------------------------------- filters

// matches is /api/calls' filter, on a call of the stream.
function matches(c, f = log.filter) {
  if (f.tool && c.tool !== f.tool) return false;
  if (f.method && c.method !== f.method) return false;
  if (f.session && c.session_id !== f.session) return false;
  if (f.client && (c.client ? c.client.name : '') !== f.client) return false;
  if (f.min_ms !== '' && !(c.duration_ms >= Number(f.min_ms))) return false;
  if (f.outcome === 'failed' && c.outcome === 'ok') return false;
  if (f.outcome && f.outcome !== 'failed' && c.outcome !== f.outcome) return false;
  if (f.q) {
    const q = f.q.toLowerCase();
    if (!c.tool.toLowerCase().includes(q) && !c.error.toLowerCase().includes(q)) return false;
  }
  return true;
}

function query(extra) {
  const q = new URLSearchParams();
  for (const f of FILTERS) if (log.filter[f] !== '') q.set(f, log.filter[f]);
  for (const [k, v] of Object.entries(extra)) q.set(k, String(v));
  return q;
}

// readFilters takes the filters from the form; a number that does not
// parse leaves min_ms unset.
function readFilters() {
  const f = {};
  for (const name of FILTERS) f[name] = $(`#calls-filter-${name}`).value.trim();
  if (f.min_ms !== '' && !(Number(f.min_ms) >= 0)) f.min_ms = '';
  if (FILTERS.some((k) => f[k] !== log.filter[k])) {
    log.filter = f;
    showFilters();
    fetchNewest(true);
    // The address names the filters, for a link to this view; replaced,
    // not pushed: typing a filter is not a step back would undo.
    const q = query({}).toString();
    const hash = `#calls${q ? `?${q}` : ''}`;
    if (location.hash.startsWith('#calls') && location.hash !== hash) history.replaceState(null, '', hash);
  }
}

// filtersFromURL takes the filters a link names ("tool=x&outcome=failed";
// unknown keys are ignored) into the form and the log.
export function filtersFromURL(params) {
  const q = new URLSearchParams(params);
  const changes = {};
  for (const k of FILTERS) changes[k] = q.get(k) || '';
  if (FILTERS.every((k) => changes[k] === log.filter[k])) return;
  if (changes.outcome && !log.seen.outcome.has(changes.outcome)) {
    // An outcome the log has not shown yet still has to be selectable.
    log.seen.outcome.add(changes.outcome);
    $('#calls-filter-outcome').append(el('option', { value: changes.outcome }, changes.outcome));
  }
  for (const [k, v] of Object.entries(changes)) $(`#calls-filter-${k}`).value = v;
  readFilters();
}

// setFilter changes some filters (from a click on a session, a client or
// the detail's buttons) and reloads the log.
function setFilter(changes) {
  for (const [k, v] of Object.entries(changes)) $(`#calls-filter-${k}`).value = v;
  readFilters();
}

function showFilters() {
  const f = log.filter;
  const active = FILTERS.filter((k) => f[k] !== '');
  $('#calls-clear').hidden = active.length === 0;
  for (const k of FILTERS) $(`#calls-filter-${k}`).closest('label').classList.toggle('on', f[k] !== '');
  for (const tr of $$('#sessions-table tbody tr')) {
    const on = f.session !== '' && tr.dataset.session === f.session;
    tr.classList.toggle('selected', on);
    tr.setAttribute('aria-selected', String(on));
  }
  for (const tr of $$('#clients-table tbody tr')) {
    const on = f.client !== '' && tr.dataset.client === f.client;
    tr.classList.toggle('selected', on);
    tr.setAttribute('aria-selected', String(on));
  }
}

// remember fills the filters' suggestions with what the log has seen.
function remember(c) {
  const add = (kind, v) => {
    if (!v || log.seen[kind].has(v)) return;
    log.seen[kind].add(v);
    if (kind === 'outcome') {
      $('#calls-filter-outcome').append(el('option', { value: v }, v));
      return;
    }
    const list = $(`#calls-${kind}s`);
    const opts = [...log.seen[kind]].sort();
    list.replaceChildren(...opts.map((o) => el('option', { value: o })));
  };
  add('tool', c.tool);
  add('method', c.method);
  add('client', c.client && c.client.name);
  add('outcome', c.outcome);
}

// ---------------------------------------------------------------- the log

function callRow(c) {
  const tr = el('tr', { tabIndex: 0, dataset: { id: String(c.id), kind: outcomeKind(c.outcome) } });
  const t = Date.parse(c.time);
  const sessionTitle = c.session_id ? `session ${c.session_id}` : `no session id (${c.transport || 'unknown transport'})`;
  tr.append(
    el('td', { className: 'time', title: Number.isFinite(t) ? `${absTime(t)} (${c.time})` : c.time }, Number.isFinite(t) ? clock.format(t) : c.time),
    el('td', { className: 'client' }, clientText(c.client)),
    el('td', { className: 'session', title: sessionTitle }, sessionText(c.session_id, c.transport)),
    el('td', { className: 'method' }, c.method, c.from_server ? el('small', { className: 'tag', title: 'a request the server sent to the client' }, 'from server') : null),
    el('td', { className: 'tool' }, c.tool ? el('span', { className: 'tname' }, breakable(c.tool)) : ''),
    el('td', { className: 'num dur' }, fmt.ms(c.duration_ms)),
    el('td', { className: 'result' }, outcomeChip(c.outcome)),
    bytesCell(c.request_bytes, 'request'),
    bytesCell(c.response_bytes, 'response'),
    el('td', { className: `num tokens${isNum(c.response_tokens) ? '' : ' none'}`, title: isNum(c.response_tokens) ? 'response tokens' : 'response tokens: not counted' },
      orNone(c.response_tokens, fmt.count)),
    el('td', { className: 'err', title: c.error || '' }, c.error ? el('span', null, c.error) : ''),
  );
  return tr;
}

// merge puts calls into the log in id order, newest on top, skipping those
// already shown, then trims it to its cap.
function merge(calls) {
  const fresh = calls.filter((c) => !log.calls.has(c.id)).sort((a, b) => b.id - a.id);
  if (fresh.length === 0) return;
  const body = $('#calls-table tbody');
  let i = 0;
  for (const c of fresh) {
    while (i < log.ids.length && log.ids[i] > c.id) i++;
    const tr = callRow(c);
    body.insertBefore(tr, i < log.ids.length ? log.rows.get(log.ids[i]) : null);
    log.ids.splice(i, 0, c.id);
    log.calls.set(c.id, c);
    log.rows.set(c.id, tr);
    remember(c);
    i++;
  }
  while (log.ids.length > log.cap) {
    const id = log.ids.pop();
    log.rows.get(id).remove();
    log.rows.delete(id);
    log.calls.delete(id);
    log.hasOlder = true;
  }
}

function clearRows() {
  $('#calls-table tbody').replaceChildren();
  log.ids = [];
  log.calls.clear();
  log.rows.clear();
  log.cap = MAX_ROWS;
}

// fetchNewest reads the newest calls that pass the filters. With replace,
// or when what it reads does not reach the newest call shown, it replaces
// the log; otherwise it fills the log in above that call. Calls streamed
// meanwhile are merged once it has.
async function fetchNewest(replace) {
  const gen = ++log.gen;
  log.loading = true;
  log.queue = [];
  log.queueSkipped = 0;
  showState();
  const top = replace ? 0 : log.ids[0] || 0;
  const limit = replace ? PAGE : Math.min(MAX_FETCH, PAGE + log.pending + log.skipped);
  let res;
  try {
    res = await getJSON(`/api/calls?${query({ limit })}`);
  } catch (e) {
    if (gen !== log.gen) return;
    log.loading = false;
    if (!log.paused) merge(log.queue.filter((c) => matches(c)));
    log.queue = [];
    showState();
    if (!(e instanceof AuthError)) onError(e);
    return;
  }
  if (gen !== log.gen) return;
  const calls = res.calls || [];
  const oldest = calls.length ? calls[calls.length - 1].id : 0;
  if (top === 0 || (res.next_cursor != null && oldest > top)) {
    clearRows();
    log.hasOlder = res.next_cursor != null;
  }
  merge(calls);
  log.loading = false;
  // What was streamed meanwhile may be newer than what was read.
  const queued = log.queue.filter((c) => matches(c) && !log.calls.has(c.id));
  log.skipped = log.queueSkipped;
  log.queue = [];
  log.queueSkipped = 0;
  if (log.paused) log.pending = queued.length;
  else {
    log.pending = 0;
    merge(queued);
  }
  showState();
}

async function loadOlder() {
  if (log.ids.length === 0) {
    fetchNewest(true);
    return;
  }
  const gen = log.gen;
  const btn = $('#calls-older');
  btn.disabled = true;
  try {
    const res = await getJSON(`/api/calls?${query({ limit: PAGE, cursor: log.ids[log.ids.length - 1] })}`);
    if (gen !== log.gen) return;
    const calls = res.calls || [];
    // What the reader asked for stays, up to a bound.
    log.cap = Math.min(HARD_MAX_ROWS, Math.max(log.cap, log.ids.length + calls.length));
    log.hasOlder = res.next_cursor != null;
    merge(calls);
  } catch (e) {
    if (!(e instanceof AuthError)) onError(e);
  } finally {
    btn.disabled = false;
    showState();
  }
}

// onCalls takes a "calls" event of the stream: {calls: newest first,
// skipped}.
export function onCalls(ev) {
  if (!log.opened || !ev) return;
  const calls = Array.isArray(ev.calls) ? ev.calls : [];
  const skipped = isNum(ev.skipped) ? ev.skipped : 0;
  if (calls.length > 0 || skipped > 0) scheduleSessions();
  if (log.loading) {
    log.queue.push(...calls);
    log.queueSkipped += skipped;
    return;
  }
  const mine = calls.filter((c) => matches(c) && !log.calls.has(c.id));
  if (log.paused) {
    log.pending += mine.length;
    log.skipped += skipped;
  } else {
    merge(mine);
    log.skipped += skipped;
  }
  showState();
}

// onLive is told when the stream (re)connects: calls recorded while it was
// down, or before it first spoke, are read from /api/calls.
export function onLive() {
  if (log.opened && !log.paused) fetchNewest(false);
  if (sess.visible) scheduleSessions();
}

function setPaused(on) {
  log.paused = on;
  const btn = $('#calls-pause');
  btn.setAttribute('aria-pressed', String(on));
  setText(btn, on ? 'Resume' : 'Pause');
  if (!on) fetchNewest(false);
  showState();
}

function showState() {
  const rows = log.ids.length;
  const filtered = FILTERS.some((k) => log.filter[k] !== '');
  setText($('#calls-count'), `${fmt.count(rows)} call${rows === 1 ? '' : 's'} shown, newest first${filtered ? ', filtered' : ''}`);
  const paused = $('#calls-paused');
  paused.hidden = !log.paused;
  if (log.paused) {
    const p = log.pending + log.skipped;
    setText(paused, p === 0
      ? 'Paused: no new call yet.'
      : `Paused: ${fmt.count(p)} new call${p === 1 ? '' : 's'} arrived meanwhile${log.skipped > 0 ? ' (or fewer: some may not pass the filters)' : ''}. Resume to show ${p === 1 ? 'it' : 'them'}.`);
  }
  const sk = $('#calls-skipped');
  sk.hidden = log.paused || log.skipped === 0;
  const n = log.skipped;
  setText($('#calls-skipped-text'), `${fmt.count(n)} call${n === 1 ? '' : 's'} arrived too fast for the live stream and ${
    n === 1 ? 'is' : 'are'} missing from this list${filtered ? ' (counted before the filters, so some may not pass them)' : ''}.`);
  const empty = $('#calls-empty');
  empty.hidden = rows > 0 || log.loading;
  setText(empty, filtered ? 'No recent call passes these filters.' : 'No MCP call has been recorded yet.');
  $('#calls-older').hidden = !log.hasOlder || rows === 0;
  $('#calls-panel').dataset.loading = String(log.loading);
}

// ---------------------------------------------------------------- detail

// showExport says what became of the spans exported over OTLP, from the
// report's counters (absent while export is off): the page says so when
// spans are being lost.
export function showExport(counters) {
  const p = $('#calls-otel');
  const c = counters || {};
  const n = (k) => (isNum(c[k]) ? c[k] : 0);
  const exported = n('otel_spans_exported');
  const dropped = n('otel_spans_dropped');
  const failed = n('otel_spans_failed');
  const on = ['otel_spans_exported', 'otel_spans_dropped', 'otel_spans_failed'].some((k) => k in c);
  p.hidden = !on;
  if (!on) return;
  p.className = dropped + failed > 0 ? 'notice' : 'hint';
  setText(p, `OpenTelemetry export (since start): ${fmt.count(exported)} spans sent, `
    + `${fmt.count(dropped)} dropped (queue full), ${fmt.count(failed)} lost (collector unreachable or refusing).`);
}

// traceURL is --trace-url-template: where a call's trace can be seen.
let traceURL = '';

// setTraceURL takes the template from the server's settings.
export function setTraceURL(template) {
  traceURL = typeof template === 'string' && template.includes('{trace_id}') ? template : '';
}

// traceCell is a call's trace id, linked to the trace when the server
// names where traces are seen.
function traceCell(c) {
  if (typeof c.trace_id !== 'string' || !/^[0-9a-f]{32}$/.test(c.trace_id)) return 'not traced (OpenTelemetry export is off, or the call was not sampled)';
  if (!traceURL) return c.trace_id;
  return el('a', { href: traceURL.replaceAll('{trace_id}', c.trace_id), target: '_blank', rel: 'noopener noreferrer', id: 'call-detail-trace' }, c.trace_id);
}

function detailRow(label, value, props) {
  return [el('dt', null, label), el('dd', props, value)];
}

function showDetail(id) {
  const c = log.calls.get(id);
  if (!c) return;
  const dlg = $('#call-detail');
  setText($('#call-detail-title'), `Call ${c.id}`);
  const t = Date.parse(c.time);
  const filterBtn = (label, changes) => {
    const b = el('button', { type: 'button', dataset: { filter: Object.keys(changes).join(' ') } }, label);
    b.addEventListener('click', () => {
      dlg.close();
      setFilter(changes);
    });
    return b;
  };
  $('#call-detail-fields').replaceChildren(
    ...detailRow('Time', Number.isFinite(t) ? `${absTime(t)} (${c.time})` : c.time),
    ...detailRow('Method', c.method),
    ...detailRow('Tool', c.tool || NONE, { className: 'mono' }),
    ...detailRow('Direction', c.from_server ? 'server to client (a request the server sent)' : 'client to server'),
    ...detailRow('Duration', `${fmt.ms(c.duration_ms)} ms, from the request's arrival to its answer`),
    ...detailRow('Outcome', [outcomeChip(c.outcome), ' ', outcomeMeaning(c.outcome)]),
    ...detailRow('Error', c.error || NONE, { className: 'mono wrap' }),
    ...detailRow('Client', clientText(c.client)),
    ...detailRow('Session', c.session_id || `none (${c.transport || 'unknown'} has no session id)`, { className: 'mono' }),
    ...detailRow('Transport', c.transport || NONE),
    ...detailRow('Request size', isNum(c.request_bytes) ? `${fmt.count(c.request_bytes)} bytes` : 'not measured'),
    ...detailRow('Response size', isNum(c.response_bytes) ? `${fmt.count(c.response_bytes)} bytes` : 'not measured'),
    ...detailRow('Response tokens', isNum(c.response_tokens) ? fmt.count(c.response_tokens) : 'not counted'),
    ...detailRow('Trace', traceCell(c), { className: 'mono' }),
    ...detailRow('Payload', 'Loading…', { id: 'call-detail-payload' }),
  );
  $('#call-detail-actions').replaceChildren(...[
    c.session_id ? filterBtn('Calls of this session', { session: c.session_id }) : null,
    c.tool ? filterBtn('Calls of this tool', { tool: c.tool }) : null,
    c.client && c.client.name ? filterBtn('Calls of this client', { client: c.client.name }) : null,
  ].filter(Boolean));
  for (const tr of $$('#calls-table tr.selected')) tr.classList.remove('selected');
  const tr = log.rows.get(id);
  if (tr) tr.classList.add('selected');
  if (!dlg.open) dlg.showModal();
  loadPayload(id);
}

// partView shows a payload's arguments or result: the redacted JSON,
// indented; or its start, when it was cut; or why it was not kept.
function partView(label, p) {
  const size = isNum(p && p.bytes) ? ` (${fmt.count(p.bytes)} bytes)` : '';
  const head = el('h4', null, label, el('span', { className: 'muted' }, size));
  if (!p || (p.value === undefined && !p.text && !p.omitted)) return el('div', { className: 'part' }, head, el('p', null, 'none'));
  if (p.omitted) return el('div', { className: 'part' }, head, el('p', null, `not kept: ${p.omitted}`));
  if (p.truncated) {
    return el('div', { className: 'part' }, head,
      el('p', { className: 'muted' }, `cut: the first ${fmt.count(new TextEncoder().encode(p.text).length)} of ${fmt.count(p.bytes)} bytes`),
      el('pre', { className: 'code', tabIndex: 0 }, p.text));
  }
  let text;
  try {
    text = JSON.stringify(p.value, null, 2);
  } catch {
    text = String(p.value);
  }
  return el('div', { className: 'part' }, head, el('pre', { className: 'code', tabIndex: 0 }, text === undefined ? 'null' : text));
}

let payloadFor = 0;

// loadPayload fills the detail's payload from /api/calls/{id}: what
// capture kept, or that capture is off.
async function loadPayload(id) {
  payloadFor = id;
  let text;
  let view = null;
  try {
    const d = await getJSON(`/api/calls/${id}`);
    if (payloadFor !== id) return;
    if (d.capture !== 'on') {
      text = 'Not recorded: payload capture is off, so the request\'s arguments and its result are not kept (--capture-payloads turns it on).';
    } else if (!d.payload) {
      text = 'Not kept: the capture store holds a bounded number of bytes and has dropped this call\'s payload, or it was not captured.';
    } else {
      text = 'Redacted by key name before it was kept.';
      view = [partView('Arguments', d.payload.arguments), partView('Result', d.payload.result)];
    }
  } catch (e) {
    if (payloadFor !== id) return;
    text = `Could not load it: ${e.message}`;
  }
  const dd = $('#call-detail-payload');
  if (!dd) return;
  dd.replaceChildren(el('p', null, text), ...(view || []));
}

// ---------------------------------------------------------------- sessions

// scheduleSessions refreshes the sessions at most every SESSIONS_EVERY,
// and only while they are on screen.
function scheduleSessions() {
  if (!sess.visible || sess.timer) return;
  const wait = Math.max(0, sess.at + SESSIONS_EVERY - Date.now());
  sess.timer = setTimeout(() => {
    sess.timer = 0;
    loadSessions();
  }, wait);
}

async function loadSessions() {
  if (sess.busy) {
    sess.again = true;
    return;
  }
  sess.busy = true;
  sess.at = Date.now();
  try {
    sess.data = await getJSON('/api/sessions');
    renderSessions();
  } catch (e) {
    if (!(e instanceof AuthError)) onError(e);
  } finally {
    sess.busy = false;
    if (sess.again) {
      sess.again = false;
      scheduleSessions();
    }
  }
}

const msCell = (v, what) => el('td', { className: 'num', title: what }, orNone(v, fmt.ms));

// patchRows shows items in body, one row each, keyed by key(item). A row
// whose item has not changed is left as it is, and a changed one keeps its
// element, so that a refresh does not take a row from under the reader's
// pointer or keyboard focus.
function patchRows(body, items, key, fill) {
  const old = new Map(Array.from(body.rows, (tr) => [tr.dataset.key, tr]));
  const rows = items.map((item) => {
    const k = key(item);
    let tr = old.get(k);
    old.delete(k);
    if (!tr) tr = el('tr', { dataset: { key: k } });
    const sig = JSON.stringify(item);
    if (tr.dataset.sig !== sig) {
      tr.dataset.sig = sig;
      fill(tr, item);
    }
    return tr;
  });
  for (const tr of old.values()) tr.remove();
  rows.forEach((tr, i) => {
    if (body.rows[i] !== tr) body.insertBefore(tr, body.rows[i] || null);
  });
}

// clickable makes a row a button that filters the log, or says why not.
function clickable(tr, on, title, why) {
  tr.tabIndex = on ? 0 : -1;
  tr.classList.toggle('plain', !on);
  tr.title = on ? title : why;
}

function fillSession(tr, s) {
  const ended = s.ended != null;
  const endT = Date.parse(ended ? s.ended : s.last_seen);
  tr.dataset.session = s.id;
  tr.dataset.state = ended ? 'ended' : 'live';
  clickable(tr, s.id !== '', 'Show only this session\'s calls', 'A stdio session has no id to filter the calls by');
  tr.replaceChildren(
    el('td', { className: 'session', title: s.id ? `session ${s.id}` : 'stdio: the one client of the process' }, sessionText(s.id, s.transport)),
    el('td', null, ended
      ? el('span', { className: 'state ended', title: `ended ${absTime(Date.parse(s.ended))}` }, `ended: ${s.end_reason || 'unknown'}`)
      : el('span', { className: 'state live' }, 'live')),
    el('td', { className: 'client' }, clientText(s.client)),
    el('td', null, s.transport || NONE),
    el('td', null, s.protocol_version || NONE),
    timeCell('td', s.started),
    el('td', { className: 'num', title: ended ? 'from its first request to its end' : 'from its first request to the end of its latest' },
      durationText(endT - Date.parse(s.started))),
    el('td', { className: 'num' }, fmt.count(s.calls)),
    el('td', { className: `num${s.errors > 0 ? ' bad' : ''}` }, fmt.count(s.errors)),
    msCell(s.p50_ms, 'p50 over the session\'s calls (ms)'),
    msCell(s.p95_ms, 'p95 over the session\'s calls (ms)'),
    bytesCell(s.request_bytes, 'requests, summed'),
    bytesCell(s.response_bytes, 'responses, summed'),
    el('td', { className: 'num', title: 'response tokens, summed over the calls where they were counted' }, orNone(s.response_tokens, fmt.count)),
  );
}

function fillClient(tr, c) {
  tr.dataset.client = c.name;
  clickable(tr, c.name !== '', 'Show only this client\'s calls', 'This client gave no name to filter the calls by');
  tr.replaceChildren(
    el('td', { className: 'client' }, c.name || '(no name)'),
    el('td', null, (c.versions || []).join(', ') || NONE),
    el('td', { className: 'num' }, `${fmt.count(c.live_sessions)} / ${fmt.count(c.sessions)}`),
    el('td', { className: 'num' }, fmt.count(c.calls)),
    el('td', { className: `num${c.errors > 0 ? ' bad' : ''}` }, fmt.count(c.errors)),
    msCell(c.p50_ms, 'p50 over the client\'s calls, in all its sessions (ms)'),
    msCell(c.p95_ms, 'p95 over the client\'s calls, in all its sessions (ms)'),
    timeCell('td', c.last_seen),
    bytesCell(c.request_bytes, 'requests, summed'),
    bytesCell(c.response_bytes, 'responses, summed'),
    el('td', { className: 'num', title: 'response tokens, summed over the calls where they were counted' }, orNone(c.response_tokens, fmt.count)),
  );
}

function renderSessions() {
  const d = sess.data;
  if (!d) return;
  const ss = d.sessions || [];
  const cs = d.clients || [];
  const live = ss.filter((s) => s.ended == null).length;
  setText($('#sessions-count'), `${live} live, ${ss.length - live} ended`);
  // Over stdio every session has the id "": its start tells them apart.
  patchRows($('#sessions-table tbody'), ss, (s) => `${s.transport} ${s.id} ${s.started}`, fillSession);
  $('#sessions-empty').hidden = ss.length > 0;
  $('#sessions-wrap').hidden = ss.length === 0;
  patchRows($('#clients-table tbody'), cs, (c) => c.name, fillClient);
  $('#clients-wrap').hidden = cs.length === 0;
  const missed = $('#sessions-missed');
  missed.hidden = !(d.missed_calls > 0);
  setText(missed, d.missed_calls > 0
    ? `${fmt.count(d.missed_calls)} calls came faster than the sessions could be read from the ring and are in no session's figures.`
    : '');
  showFilters();
}

// ---------------------------------------------------------------- wiring

// showCalls is called when the tab is shown or hidden.
export function showCalls(on) {
  sess.visible = on;
  if (!on) return;
  if (!log.opened) {
    log.opened = true;
    fetchNewest(true);
  }
  clearTimeout(sess.timer);
  sess.timer = 0;
  loadSessions();
}

// onSample refreshes the sessions once per sample too: sessions end
// (idle, closed) without a call.
export function onSample() {
  if (sess.visible) scheduleSessions();
}

function rowActivate(body, fn) {
  body.addEventListener('click', (ev) => {
    const tr = ev.target.closest('tr');
    if (tr && !tr.classList.contains('plain')) fn(tr);
  });
  body.addEventListener('keydown', (ev) => {
    if (ev.key !== 'Enter' && ev.key !== ' ') return;
    const tr = ev.target.closest('tr');
    if (!tr || tr.classList.contains('plain')) return;
    ev.preventDefault();
    fn(tr);
  });
}

// toggle filters by v, or clears that filter when it is already v.
const toggle = (k, v) => setFilter({ [k]: log.filter[k] === v ? '' : v });

function scrollToLog() {
  const panel = $('#calls-panel');
  if (panel.getBoundingClientRect().top > window.innerHeight * 0.6) panel.scrollIntoView({ block: 'start' });
}

// The sessions panel starts open on a wide screen and folded on a phone,
// where the log matters most, unless the reader has chosen.
const SESSIONS_OPEN = 'pbatunnel.sessions';

function bindSessionsPanel() {
  const panel = $('#sessions-panel');
  let saved = null;
  try {
    saved = localStorage.getItem(SESSIONS_OPEN);
  } catch {
    // No storage: the default.
  }
  panel.open = saved ? saved === 'open' : !matchMedia('(max-width: 640px)').matches;
  // Saved on the reader's click only, not on the page's own setting above.
  $('summary', panel).addEventListener('click', () => setTimeout(() => {
    try {
      localStorage.setItem(SESSIONS_OPEN, panel.open ? 'open' : 'closed');
    } catch {
      // As above.
    }
  }));
}

export function initCalls({ failed }) {
  onError = failed;
  bindSessionsPanel();
  $('#calls-filter-outcome').replaceChildren(...OUTCOMES.map(([v, label]) => el('option', { value: v }, label)));
  let timer = 0;
  for (const k of FILTERS) {
    const input = $(`#calls-filter-${k}`);
    input.addEventListener('change', () => {
      clearTimeout(timer);
      readFilters();
    });
    if (input.tagName === 'INPUT') {
      input.addEventListener('input', () => {
        clearTimeout(timer);
        timer = setTimeout(readFilters, FILTER_DELAY);
      });
      input.addEventListener('keydown', (ev) => {
        if (ev.key !== 'Enter') return;
        ev.preventDefault();
        clearTimeout(timer);
        readFilters();
      });
    }
  }
  $('#calls-clear').addEventListener('click', () => setFilter(Object.fromEntries(FILTERS.map((k) => [k, '']))));
  $('#calls-pause').addEventListener('click', () => setPaused(!log.paused));
  $('#calls-older').addEventListener('click', loadOlder);
  $('#calls-reload').addEventListener('click', () => fetchNewest(false));
  rowActivate($('#calls-table tbody'), (tr) => showDetail(Number(tr.dataset.id)));
  rowActivate($('#sessions-table tbody'), (tr) => {
    toggle('session', tr.dataset.session);
    scrollToLog();
  });
  rowActivate($('#clients-table tbody'), (tr) => {
    toggle('client', tr.dataset.client);
    scrollToLog();
  });
  $('#call-detail-close').addEventListener('click', () => $('#call-detail').close());
  // A click on the backdrop (outside the dialog's box) closes it.
  $('#call-detail').addEventListener('click', (ev) => {
    if (ev.target === ev.currentTarget) {
      const r = ev.currentTarget.getBoundingClientRect();
      if (ev.clientX < r.left || ev.clientX > r.right || ev.clientY < r.top || ev.clientY > r.bottom) ev.currentTarget.close();
    }
  });
  $('#call-detail').addEventListener('close', () => {
    payloadFor = 0;
    for (const tr of $$('#calls-table tr.selected')) tr.classList.remove('selected');
  });
  showFilters();
  showState();
}
