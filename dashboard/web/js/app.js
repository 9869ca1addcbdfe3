// The dashboard page: five tabs over the JSON API, kept current by the live
// stream (see live.js); the Calls tab is calls.js. No framework: the page is small enough that direct
// DOM updates are the simplest thing that is fast.

import { AuthError, getJSON, getText, hasToken, onUnauthorized, setToken } from './api.js';
import { filtersFromURL, initCalls, onCalls, onLive, onSample, setTraceURL, showCalls, showExport } from './calls.js';
import { SeriesStore, TimeChart } from './charts.js';
import { cardLevel, idleOf, RANK } from './levels.js';
import { Live } from './live.js';
import {
  $, $$, UNITS, absTime, breakable, bytesText, durationText, el, fmt, isNum, parseSpan, reading, refreshRelTimes, relTime, setText, timeCell,
} from './util.js';

// The six cards of the guide's Overview tab, keyed by system_overview field.
const CARDS = [
  { key: 'memory_usage_percent', title: 'Memory Usage', kind: 'percent' },
  { key: 'cpu_usage_percent', title: 'CPU Usage', kind: 'percent' },
  { key: 'cache_hit_rate_percent', title: 'Cache Hit Rate', kind: 'percent' },
  { key: 'memory_entries_count', title: 'Memory Entries', kind: 'count' },
  { key: 'average_query_time_ms', title: 'Query Time', kind: 'ms' },
  { key: 'throughput_operations_per_second', title: 'Throughput', kind: 'rate' },
];

// The Overview charts. A chart with one series is drawn against that
// series' alert rule, if one is configured. what says what one point of
// the chart is, from the windows of the configuration and the report
// (w: {minute, recent}, see chartWindows).
const CHARTS = [
  { id: 'cpu', title: 'CPU usage', kind: 'percent', fixed: [0, 100], series: [['cpu_usage_percent', 'CPU']],
    what: () => 'host, at each sample (since the one before)' },
  { id: 'memory', title: 'Memory usage', kind: 'percent', fixed: [0, 100], series: [['memory_usage_percent', 'memory']],
    what: () => 'at each sample' },
  { id: 'throughput', title: 'Throughput', kind: 'rate', series: [['throughput_operations_per_second', 'throughput']],
    what: (w) => `tool calls per second, per sample, over the last ${w.minute}` },
  {
    id: 'latency', title: 'Tool latency', kind: 'ms', log: true,
    series: [['tools.p50_ms', 'p50'], ['tools.p95_ms', 'p95'], ['tools.p99_ms', 'p99']],
    what: (w) => `all tools, per sample, over the recent window (${w.recent})`,
  },
  { id: 'errors', title: 'Error rate', kind: 'percent', max: 100, series: [['error_rate_percent', 'errors']],
    what: (w) => `failed tool calls, per sample, over the last ${w.minute}` },
  // The store's hit rate: "pbatunnel proxy" has no store, it is always n/a there.
  { id: 'cache', title: 'Cache hit rate', kind: 'percent', fixed: [0, 100], series: [['cache_hit_rate_percent', 'hit rate']],
    mode: 'serve', what: (w) => `per sample, over the last ${w.minute}` },
  // Under "pbatunnel proxy": the process of the MCP server behind it.
  { id: 'upstream-cpu', title: 'Upstream CPU', kind: 'percent', series: [['process.upstream.cpu_percent', 'CPU']],
    mode: 'proxy', what: () => 'the upstream process, share of one core, at each sample (since the one before)' },
  { id: 'upstream-rss', title: 'Upstream memory (RSS)', kind: 'mib', series: [['process.upstream.rss_bytes', 'RSS']],
    mode: 'proxy', scale: 1 / 1048576, what: () => 'the upstream process\'s resident memory, at each sample' },
];

// The charts of the Overview in the current mode: "proxy" when
// /api/config names an upstream, else "serve".
const chartMode = () => (state.upstream ? 'proxy' : 'serve');
const shownCharts = () => CHARTS.filter((c) => !c.mode || c.mode === chartMode());

// spanText says a span of seconds in the largest whole unit.
function spanText(sec) {
  if (!isNum(sec) || sec <= 0) return '';
  if (sec % 3600 === 0) return sec === 3600 ? 'hour' : `${sec / 3600} h`;
  if (sec % 60 === 0) return sec === 60 ? 'minute' : `${sec / 60} min`;
  return `${fmt.any(sec)} s`;
}

// chartWindows are the spans the Overview's points cover: the rates'
// minute (rate_window_seconds, shorter while the monitor is younger than
// a minute) and the latency percentiles' recent window
// (monitor.recent_window_seconds, or the report's recent_window_minutes).
function chartWindows() {
  const r = state.report;
  const ov = r && r.system_overview;
  const mi = (r && r.monitoring_info) || {};
  const rate = ov && isNum(ov.rate_window_seconds) && ov.rate_window_seconds > 0 ? ov.rate_window_seconds : 60;
  const cfg = state.config && state.config.monitor;
  let recent = cfg && isNum(cfg.recent_window_seconds) ? cfg.recent_window_seconds : null;
  if (recent === null && isNum(mi.recent_window_minutes)) recent = mi.recent_window_minutes * 60;
  const recentText = spanText(Math.round(recent));
  return {
    minute: Math.abs(rate - 60) < 0.5 ? 'minute' : rate >= 1 ? `${Math.round(rate)} s` : `${fmt.any(rate)} s`,
    recent: recentText === 'minute' ? '1 min' : recentText === 'hour' ? '1 h' : recentText || 'recent window',
  };
}

function renderCaptions() {
  const w = chartWindows();
  for (const c of shownCharts()) setText($(`#chart-${c.id} .chart-what`), c.what(w));
}

const LOG_KEY = 'pbatunnel.latencyLog';

function savedLog() {
  try {
    return sessionStorage.getItem(LOG_KEY) === '1';
  } catch {
    return false;
  }
}

// How each charted series is read from a report, so that a live sample
// extends the charts without another request.
const LIVE = {
  cpu_usage_percent: (r) => r.system_overview.cpu_usage_percent,
  memory_usage_percent: (r) => r.system_overview.memory_usage_percent,
  throughput_operations_per_second: (r) => r.system_overview.throughput_operations_per_second,
  error_rate_percent: (r) => r.system_overview.error_rate_percent,
  cache_hit_rate_percent: (r) => r.system_overview.cache_hit_rate_percent,
  'tools.p50_ms': (r) => r.performance && r.performance.tool_latency.recent.p50_ms,
  'tools.p95_ms': (r) => r.performance && r.performance.tool_latency.recent.p95_ms,
  'tools.p99_ms': (r) => r.performance && r.performance.tool_latency.recent.p99_ms,
  'process.upstream.cpu_percent': (r) => reading(r.processes && r.processes.upstream && r.processes.upstream.cpu_percent).value,
  'process.upstream.rss_bytes': (r) => reading(r.processes && r.processes.upstream && r.processes.upstream.rss_bytes).value,
};
// The cards of the store behind "pbatunnel serve": under "pbatunnel proxy"
// there is none, they could only ever say n/a, so they are not shown.
const STORE_CARDS = ['cache_hit_rate_percent', 'memory_entries_count', 'average_query_time_ms'];

// The series the Overview's charts draw in the current mode.
const overviewMetrics = () => shownCharts().flatMap((c) => c.series.map((s) => s[0]));

const TOOL_FIGURES = [['p50_ms', 'p50'], ['p95_ms', 'p95'], ['p99_ms', 'p99']];
const toolMetrics = (name) => TOOL_FIGURES.map(([f]) => `tool.${name}.${f}`);

// The Tools table lists every tool offered (the catalogue, /api/catalog)
// and every tool called (the report's tool_metrics). A row is
// { name, t: its tool_metrics or null, c: its catalogue entry or null }.
// Each column's get returns the sort key, null when there is none (those
// rows sort last, in either direction); cell the content shown; tip, when
// given, the cell's title.
const NA = 'n/a';
const NONE = '—';
const pct = (t) => t.since_start || {};
const NEVER = 'never called';

// callCol is a column of the call figures: "—" for a tool never called.
const callCol = (key, label, get, show, props) => ({
  key, label, ...props,
  get: (r) => (r.t ? get(r.t) : null),
  cell: (r) => (r.t ? show(r.t) : NONE),
  tip: (r) => (r.t ? '' : NEVER),
});

// costCol is a column of what a tool's responses cost, a report Reading:
// "—" with the reason in the title when there is no figure.
const costCol = (key, label, field, show, what) => ({
  key, label, title: what,
  get: (r) => (r.t ? reading(r.t[field]).value : null),
  cell: (r) => {
    const v = r.t ? reading(r.t[field]).value : null;
    return v === null ? NONE : show(v);
  },
  tip: (r) => {
    if (!r.t) return NEVER;
    const rd = reading(r.t[field]);
    return rd.value === null ? `not available: ${rd.reason}` : '';
  },
});

const TOOL_COLS = [
  { key: 'name', label: 'Tool', text: true, get: (r) => r.name, cell: null },
  callCol('calls', 'Calls', (t) => t.call_count, (t) => fmt.count(t.call_count)),
  callCol('avg', 'Avg (ms)', (t) => t.average_response_time, (t) => fmt.ms(t.average_response_time)),
  callCol('p95', 'p95 (ms)', (t) => pct(t).p95_ms, (t) => (isNum(pct(t).p95_ms) ? fmt.ms(pct(t).p95_ms) : NA)),
  callCol('p99', 'p99 (ms)', (t) => pct(t).p99_ms, (t) => (isNum(pct(t).p99_ms) ? fmt.ms(pct(t).p99_ms) : NA)),
  callCol('success', 'Success (%)', (t) => t.success_rate, (t) => fmt.percent(t.success_rate)),
  callCol('errors', 'Errors', (t) => t.error_count, (t) => fmt.count(t.error_count)),
  { key: 'last', label: 'Last used', get: (r) => (r.t ? Date.parse(r.t.last_used) || 0 : null), cell: null },
  {
    key: 'def', label: 'Definition (tokens)',
    title: 'tokens of the tool\'s definition (name, description, input schema), in every conversation that offers the tools',
    get: (r) => (r.c ? r.c.tokens : null),
    cell: (r) => (r.c ? fmt.count(r.c.tokens) : NONE),
    tip: (r) => (r.c ? '' : 'not in the tools/list seen'),
  },
  costCol('rtok', 'Response avg (tokens)', 'response_tokens_avg', fmt.count,
    'mean model tokens of the tool\'s responses: what a call adds to the context'),
  costCol('rp95', 'Response p95 (tokens)', 'response_tokens_p95', fmt.count,
    '95th percentile of the model tokens of the tool\'s responses'),
  costCol('rbytes', 'Response avg size', 'response_bytes_avg', bytesText,
    'mean size of the tool\'s responses as JSON'),
];

// The "Heaviest first" order: by what a call adds to the context.
const HEAVIEST = { key: 'rtok', dir: -1 };

const WINDOWS = ['5m', '15m', '1h', '6h', '24h'];
const TABS = ['overview', 'tools', 'calls', 'performance', 'alerts'];

const state = {
  config: null,
  upstream: null, // under "pbatunnel proxy": the MCP server behind it
  rules: new Map(), // series name -> rule with levels
  report: null,
  lastUpdate: '',
  receivedAt: 0,
  window: '15m',
  tab: 'overview',
  sort: { key: 'calls', dir: -1 },
  catalog: null, // /api/catalog
  tool: null, // selected tool name
  alerts: null,
  live: null,
  pollSeconds: 30,
  overview: null, // SeriesStore
  charts: new Map(), // id -> TimeChart
  toolStore: null,
  toolChart: null,
  generation: 0, // bumped on every (re)start, so stale responses are ignored
  historySeq: 0,
  chartMode: '', // the mode the Overview's charts were built for
  rawAt: 0,
};

// ---------------------------------------------------------------- layout

function buildCards() {
  $('#cards').replaceChildren(...CARDS.map((c) => el('article', { className: 'card', id: `card-${c.key}`, dataset: { key: c.key } },
    el('header', null, el('h3', null, c.title), el('span', { className: 'chip' })),
    el('p', { className: 'value' }, el('span', { className: 'num' }, '–'), el('span', { className: 'unit' }, UNITS[c.kind])),
    el('p', { className: 'note' }),
    el('p', { className: 'limits' }),
    el('p', { className: 'guard' }))));
}

function buildCharts() {
  const grid = $('#charts');
  grid.replaceChildren();
  for (const ch of state.charts.values()) ch.destroy();
  state.charts = new Map();
  state.chartMode = chartMode();
  for (const c of shownCharts()) {
    const plot = el('div', { className: 'plot' });
    const log = c.log ? savedLog() : false;
    let toggle = null;
    if (c.log) {
      toggle = el('button', {
        type: 'button', className: 'scale-toggle', id: `chart-${c.id}-log`,
        title: 'logarithmic y axis: small and large latencies both readable',
        attrs: { 'aria-pressed': String(log) },
      }, 'log scale');
      toggle.addEventListener('click', () => {
        const on = toggle.getAttribute('aria-pressed') !== 'true';
        toggle.setAttribute('aria-pressed', String(on));
        try {
          if (on) sessionStorage.setItem(LOG_KEY, '1');
          else sessionStorage.removeItem(LOG_KEY);
        } catch {
          // No storage: the choice lasts until the page is left.
        }
        state.charts.get(c.id).setLog(on);
      });
    }
    grid.append(el('section', { className: 'panel chart', id: `chart-${c.id}` },
      el('header', null, el('h3', null, `${c.title} (${UNITS[c.kind]})`), el('span', { className: 'chart-note' }),
        c.id === 'throughput' ? el('span', { className: 'chart-idle' }) : null, toggle),
      el('p', { className: 'chart-what' }),
      plot));
    state.charts.set(c.id, new TimeChart(plot, {
      series: c.series.map(([, label]) => ({ label })),
      format: fmt[c.kind],
      unit: UNITS[c.kind],
      fixed: c.fixed || null,
      max: c.max,
      rule: null,
      log,
    }));
  }
  renderCaptions();
}

function buildToolsHead() {
  const row = el('tr');
  for (const col of TOOL_COLS) {
    const btn = el('button', { type: 'button', className: 'sort', dataset: { sort: col.key } }, col.label);
    btn.addEventListener('click', () => {
      if (state.sort.key === col.key) state.sort.dir = -state.sort.dir;
      else state.sort = { key: col.key, dir: col.text ? 1 : -1 };
      renderTools();
    });
    row.append(el('th', { scope: 'col', className: col.text ? '' : 'num', title: col.title, dataset: { col: col.key } }, btn));
  }
  $('#tools-table thead').replaceChildren(row);
}

// ---------------------------------------------------------------- status

function showStatus({ mode, pollSeconds }) {
  const box = $('#status');
  // Back from an outage: samples taken meanwhile may not all have been
  // polled, so the charts reload their window to close the gap.
  const was = box.dataset.mode;
  if (mode === 'live' && (was === 'reconnecting' || was === 'offline')) loadHistory().catch(failed);
  // The calls log reads what the stream did not bring: those recorded while
  // it was down, or before it first spoke.
  if (mode === 'live' && was !== 'live') onLive();
  box.dataset.mode = mode;
  const text = {
    connecting: 'Connecting…',
    live: 'Live',
    reconnecting: `Reconnecting… (polling every ${pollSeconds} s)`,
    offline: `Server unreachable (retrying every ${pollSeconds} s)`,
    auth: 'Token required',
    error: 'Error',
  }[mode] || mode;
  setText($('#status-text'), text);
}

function tick() {
  const up = $('#updated');
  if (state.receivedAt) {
    setText(up, `updated ${relTime(state.receivedAt)}`);
    up.title = state.lastUpdate ? `sample taken ${absTime(Date.parse(state.lastUpdate))}` : '';
  }
  refreshRelTimes();
}

function banner(msg) {
  const b = $('#banner');
  b.hidden = !msg;
  setText(b, msg || '');
}

// ---------------------------------------------------------------- data

function applyConfig(cfg) {
  state.config = cfg;
  setTraceURL(cfg.config && cfg.config.trace_url_template);
  state.upstream = (cfg.config && cfg.config.upstream) || null;
  renderUpstream();
  // The proxy's charts differ from serve's: draw the mode's set.
  if (state.chartMode !== chartMode()) {
    buildCharts();
    if (state.overview) loadHistory().catch(failed);
  }
  state.rules = new Map();
  for (const r of cfg.rules || []) {
    if (!r.metric || r.metric.includes('*') || state.rules.has(r.metric)) continue;
    if (isNum(r.warning) || isNum(r.critical)) state.rules.set(r.metric, r);
  }
  const poll = cfg.dashboard && cfg.dashboard.poll_interval_seconds;
  state.pollSeconds = isNum(poll) && poll > 0 ? poll : 30;
  applyChartRules();
  renderCaptions();
}

// applyChartRules draws each one-series chart against its rule; but an
// idle server's throughput is not judged (the rule is guarded by
// average_concurrency), so its chart shows no warning bands then.
function applyChartRules() {
  const idle = idleOf(state.report);
  for (const c of shownCharts()) {
    let rule = c.series.length === 1 ? state.rules.get(c.series[0][0]) || null : null;
    if (idle && c.series[0][0] === 'throughput_operations_per_second') rule = null;
    const chart = state.charts.get(c.id);
    if (chart.spec.rule !== rule) chart.setRule(rule);
  }
  const box = $('#chart-throughput');
  box.dataset.idle = String(Boolean(idle));
  setText($('.chart-idle', box), idle ? `no traffic: ${idle}` : '');
}

// handleReport shows a report from any source; a report already shown
// (same sample) changes nothing.
function handleReport(r) {
  if (!r || typeof r !== 'object') return;
  state.report = r;
  const mi = r.monitoring_info || {};
  if (r.status !== 'ok') {
    banner(r.message || 'No data yet.');
    state.receivedAt = Date.now();
    tick();
    return;
  }
  banner('');
  const fresh = mi.last_update !== state.lastUpdate;
  if (!fresh) return;
  state.lastUpdate = mi.last_update;
  state.receivedAt = Date.now();
  showExport(r.custom_metrics && r.custom_metrics.counters);
  applyChartRules();
  renderCaptions();
  renderCards();
  renderTools();
  renderUpstream();
  refreshCatalog();
  // Under the tunnel, the upstream's name arrives with its initialize
  // result and its state can change at any sample: read it again.
  if (state.upstream) {
    refreshSessionsLine();
    getJSON('/api/config').then((cfg) => {
      state.upstream = (cfg.config && cfg.config.upstream) || null;
      renderUpstream();
    }, () => {});
  }
  onSample();
  appendLive(r);
  // After appendLive: the trend charts draw the sample just added.
  if (state.tab === 'performance') renderPerformance();
  refreshAlerts();
  tick();
}

// renderUpstream shows, under "pbatunnel proxy", which MCP server is
// behind the tunnel (from its initialize result), whether it is up, and
// its process's CPU and memory beside the host's.
function renderUpstream() {
  const node = $('#upstream');
  const u = state.upstream;
  for (const key of STORE_CARDS) $(`#card-${key}`).hidden = Boolean(u);
  if (!u) {
    node.hidden = true;
    return;
  }
  const info = u.server_info || {};
  const name = info.name ? `${info.name}${info.version ? ' ' + info.version : ''}` : (u.command || u.url || 'upstream');
  // A stdio server served over HTTP runs only for sessions: before the
  // first, it is neither up nor down.
  const waiting = u.bridge && !u.up && !u.since;
  const parts = [`upstream: ${name}`, waiting ? 'starts with the first session' : (u.up ? 'up' : 'down')];
  // Served over HTTP from stdio (proxy --listen -- COMMAND): a process
  // per session, and the figures below are the newest one's.
  const sessions = isNum(u.sessions) ? u.sessions : 0;
  if (u.bridge) parts.push(`${sessions} ${sessions === 1 ? 'process' : 'processes'}, one per session`);
  if (isNum(u.restarts) && u.restarts > 0) parts.push(`${u.restarts} restarts`);
  const p = state.report && state.report.processes && state.report.processes.upstream;
  if (p) {
    const cpu = reading(p.cpu_percent);
    const rss = reading(p.rss_bytes);
    const whose = u.bridge ? 'newest process: ' : '';
    if (cpu.value !== null) parts.push(`${whose}CPU ${fmt.percent(cpu.value)} %`);
    if (rss.value !== null) parts.push(`${cpu.value !== null ? '' : whose}RSS ${fmt.percent(rss.value / 1048576)} MiB`);
  }
  node.dataset.up = waiting ? 'waiting' : String(Boolean(u.up));
  setText(node, parts.join(' · '));
  node.hidden = false;
}

let sessionsLineBusy = false;

// refreshSessionsLine says, under "pbatunnel proxy", how many sessions are
// live and which clients hold them, from /api/sessions; one request at a
// time.
async function refreshSessionsLine() {
  const node = $('#sessions-summary');
  if (!state.upstream) {
    node.hidden = true;
    return;
  }
  if (sessionsLineBusy) return;
  sessionsLineBusy = true;
  const gen = state.generation;
  try {
    const d = await getJSON('/api/sessions');
    if (gen !== state.generation) return;
    const live = (d.sessions || []).filter((x) => !x.ended).length;
    const clients = (d.clients || []).filter((c) => c.live_sessions > 0)
      .map((c) => (c.live_sessions > 1 ? `${c.name} (${fmt.count(c.live_sessions)})` : c.name));
    node.dataset.live = String(live);
    setText(node, live === 0
      ? 'No live session.'
      : `${fmt.count(live)} live session${live === 1 ? '' : 's'} · clients: ${clients.join(', ')}`);
    node.hidden = false;
  } catch (e) {
    failed(e);
  } finally {
    sessionsLineBusy = false;
  }
}

async function loadHistory() {
  // Only the latest request may draw: a slow answer for the previous
  // window must not replace the one for the window now selected.
  const seq = ++state.historySeq;
  const gen = state.generation;
  const span = parseSpan(state.window);
  const q = new URLSearchParams();
  const metrics = overviewMetrics();
  for (const m of metrics) q.append('metric', m);
  q.set('since', state.window);
  const h = await getJSON(`/api/history?${q}`);
  if (gen !== state.generation || seq !== state.historySeq) return;
  state.overview = new SeriesStore(metrics, span);
  state.overview.load(h);
  // The report shown may be newer than the history's last point.
  if (state.report && state.report.status === 'ok') appendOverview(state.report);
  drawOverview();
  if (state.tab === 'performance' && state.report && state.report.status === 'ok') renderTrendCharts(state.report.trends || {});
  await loadToolHistory();
}

async function loadToolHistory() {
  const name = state.tool;
  if (name == null || !state.toolChart) return;
  const gen = state.generation;
  const metrics = toolMetrics(name);
  const q = new URLSearchParams();
  for (const m of metrics) q.append('metric', m);
  q.set('since', state.window);
  const h = await getJSON(`/api/history?${q}`);
  if (gen !== state.generation || name !== state.tool) return;
  state.toolStore = new SeriesStore(metrics, parseSpan(state.window));
  state.toolStore.load(h);
  if (state.report) appendTool(state.report);
  state.toolChart.setData(state.toolStore.columns(metrics));
}

const reportTime = (r) => Date.parse(r.monitoring_info.last_update) / 1000;

function appendOverview(r) {
  const values = state.overview.metrics.map((m) => {
    const v = LIVE[m](r);
    return isNum(v) ? v : null;
  });
  return state.overview.append(reportTime(r), values);
}

function appendTool(r) {
  const t = r.tool_metrics && r.tool_metrics[state.tool];
  if (!t || !state.toolStore) return false;
  const rec = t.recent || {};
  return state.toolStore.append(reportTime(r), TOOL_FIGURES.map(([f]) => rec[f]));
}

function appendLive(r) {
  if (state.overview && appendOverview(r)) drawOverview();
  if (state.toolStore && appendTool(r)) {
    state.toolChart.setData(state.toolStore.columns(toolMetrics(state.tool)));
  }
}

function drawOverview() {
  const ov = state.report && state.report.system_overview;
  for (const c of shownCharts()) {
    const metrics = c.series.map((s) => s[0]);
    const chart = state.charts.get(c.id);
    if (!chart || metrics.some((m) => !state.overview.metrics.includes(m))) continue;
    const cols = state.overview.columns(metrics);
    chart.setData(c.scale ? [cols[0], ...cols.slice(1).map((col) => col.map((v) => (v == null ? v : v * c.scale)))] : cols);
    // Say why a series has no line rather than leave an empty box.
    const reasons = metrics.map((m) => {
      const col = state.overview.cols[state.overview.metrics.indexOf(m)];
      if (col.some((v) => v != null)) return '';
      return (ov && ov.unavailable && ov.unavailable[m]) || state.overview.unavailable[m] || 'no data in this window';
    }).filter(Boolean);
    const note = $(`#chart-${c.id} .chart-note`);
    setText(note, reasons.length === metrics.length ? `n/a: ${reasons[0]}` : '');
  }
}

// ---------------------------------------------------------------- overview

// engineLevel is the highest level the alert engine holds for a series
// (pending or firing, with firing only when asked), from /api/alerts.
function engineLevel(metric, firingOnly) {
  let lv = '';
  for (const a of (state.alerts && state.alerts.active) || []) {
    if (a.metric !== metric || a.unavailable) continue;
    if (a.state !== 'firing' && (firingOnly || a.state !== 'pending')) continue;
    if (RANK[a.level] > RANK[lv]) lv = a.level;
  }
  return lv;
}

function cardLevelOf(key, v) {
  return cardLevel({
    key, rule: state.rules.get(key), value: v, engine: (firingOnly) => engineLevel(key, firingOnly), idle: idleOf(state.report),
  });
}

function limitsText(rule, unit) {
  if (!rule) return '';
  const op = rule.direction === 'below' ? '<' : '>';
  const u = unit ? ` ${unit}` : '';
  const parts = [];
  if (isNum(rule.warning)) parts.push(`warning ${op} ${rule.warning}${u}`);
  if (isNum(rule.critical)) parts.push(`critical ${op} ${rule.critical}${u}`);
  return parts.join(' · ');
}

// guardText says when a conditional rule is judged at all.
function guardText(rule) {
  const g = rule && rule.only_if;
  return g && g.metric ? `judged only when ${g.metric} ≥ ${g.at_least}` : '';
}

function renderCards() {
  const ov = state.report && state.report.system_overview;
  if (!ov) return;
  const why = ov.unavailable || {};
  const win = `last ${chartWindows().minute}`;
  for (const c of CARDS) {
    const card = $(`#card-${c.key}`);
    const v = ov[c.key];
    const rule = state.rules.get(c.key);
    const level = cardLevelOf(c.key, v);
    const na = !isNum(v);
    card.dataset.state = na ? 'na' : level || 'none';
    setText($('.num', card), na ? 'n/a' : fmt[c.kind](v));
    $('.unit', card).hidden = na;
    setText($('.chip', card), na ? 'n/a' : level === 'idle' ? 'no traffic' : level);
    let note = '';
    if (na) note = why[c.key] || 'not measured';
    else if (level === 'idle') note = `no traffic, ${win}`;
    else if (c.key === 'memory_usage_percent') note = `of ${ov.memory_usage_source || 'host'} memory`;
    else if (c.key === 'memory_entries_count') {
      note = isNum(ov.relationship_count) ? `${fmt.count(ov.relationship_count)} relationships` : '';
    } else if (c.key === 'cpu_usage_percent') note = 'host, since the last sample';
    else note = c.key === 'average_query_time_ms' ? `store queries, ${win}` : win;
    const noteEl = $('.note', card);
    setText(noteEl, note);
    noteEl.classList.toggle('reason', na);
    card.title = na ? `${c.title}: not available: ${note}` : '';
    setText($('.limits', card), limitsText(rule, UNITS[c.kind]));
    const guard = $('.guard', card);
    const gt = guardText(rule);
    if (guard.textContent !== gt) guard.replaceChildren(breakable(gt));
  }
}

// ---------------------------------------------------------------- tools

let catalogBusy = false;
let catalogAgain = false;

// refreshCatalog fetches /api/catalog (its calls change with every sample,
// its list with every tools/list), coalescing calls made while a request
// is in flight into one more.
async function refreshCatalog() {
  if (catalogBusy) {
    catalogAgain = true;
    return;
  }
  catalogBusy = true;
  const gen = state.generation;
  try {
    const c = await getJSON('/api/catalog');
    if (gen === state.generation) {
      state.catalog = c;
      renderTools();
    }
  } catch (e) {
    failed(e);
  } finally {
    catalogBusy = false;
    if (catalogAgain) {
      catalogAgain = false;
      refreshCatalog();
    }
  }
}

// toolRows merges the catalogue with the tools called.
function toolRows() {
  const tm = (state.report && state.report.tool_metrics) || {};
  const rows = new Map();
  for (const c of (state.catalog && state.catalog.tools) || []) rows.set(c.name, { name: c.name, t: null, c });
  for (const [name, t] of Object.entries(tm)) {
    const r = rows.get(name);
    if (r) r.t = t;
    else rows.set(name, { name, t, c: null });
  }
  return Array.from(rows.values());
}

function renderCost() {
  const node = $('#tools-cost');
  const cat = state.catalog;
  node.hidden = !cat;
  if (!cat) return;
  if (cat.listed == null) {
    setText(node, 'No tools/list has been seen yet, so what the tool definitions cost is not known.');
    node.title = '';
    return;
  }
  setText(node, `Tool definitions cost ${fmt.count(cat.tools_list_tokens)} tokens in every conversation (the tools/list result, o200k_base)`);
  node.title = `listed ${absTime(Date.parse(cat.listed))}`;
}

// FINDINGS say, in words, what a description holds that tool poisoning
// uses.
const FINDINGS = {
  instruction_tag: 'instruction tags', addresses_model: 'words to the model', invisible_text: 'invisible text',
  sensitive_path: 'secret files', sends_data_away: 'sends data away',
};

function nameCell(r) {
  const desc = r.c && r.c.description;
  const findings = (r.c && r.c.findings) || [];
  return el('td', { className: 'name' },
    el('span', { className: 'tool' }, breakable(r.name)),
    desc ? el('small', { className: 'desc', title: desc }, desc) : null,
    findings.length ? el('small', {
      className: 'finding',
      title: findings.map((f) => `${FINDINGS[f.kind] || f.kind}: ${f.match}`).join('\n'),
    }, `Read this description: ${findings.map((f) => FINDINGS[f.kind] || f.kind).join(', ')}`) : null);
}

// DRIFT_KINDS say what each kind of change is.
const DRIFT_KINDS = {
  added: 'tool added', removed: 'tool removed', description: 'description changed',
  input_schema: 'input schema changed', definition: 'definition changed',
};

// renderDrift lists how the tools changed since first listed, newest
// first; every text is set as text, never markup.
function renderDrift() {
  const cat = state.catalog;
  const changes = (cat && cat.changes) || [];
  const panel = $('#drift-panel');
  panel.hidden = changes.length === 0;
  if (panel.hidden) return;
  setText($('#drift-count'), cat.drift > 0
    ? `${fmt.count(cat.drift)} ${cat.drift === 1 ? 'difference' : 'differences'} from the pinned tools now`
    : 'the tools are as pinned again');
  $('#drift-count').className = cat.drift > 0 ? 'notice' : 'muted';
  const show = (raw) => {
    if (raw == null) return NONE;
    const text = typeof raw === 'string' ? raw : JSON.stringify(raw);
    return text.length > 400 ? `${text.slice(0, 400)}…` : text;
  };
  $('#drift-table tbody').replaceChildren(...changes.slice().reverse().map((c) => el('tr', null,
    timeCell('td', c.time),
    el('td', { className: 'mono' }, breakable(c.tool)),
    el('td', null, DRIFT_KINDS[c.kind] || c.kind),
    el('td', { className: 'mono wrap' }, show(c.before)),
    el('td', { className: 'mono wrap' }, show(c.after)))));
}

function renderTools() {
  renderCost();
  renderDrift();
  const col = TOOL_COLS.find((c) => c.key === state.sort.key) || TOOL_COLS[1];
  const rows = toolRows();
  const dir = state.sort.dir;
  rows.sort((ra, rb) => {
    const a = col.get(ra);
    const b = col.get(rb);
    let d;
    if (col.text) d = String(a).localeCompare(String(b)) * dir;
    // A figure there is not (never called, not measured) goes last.
    else if (!isNum(a) || !isNum(b)) d = isNum(a) ? -1 : isNum(b) ? 1 : 0;
    else d = (a - b) * dir;
    if (d === 0) d = ra.name < rb.name ? -1 : ra.name > rb.name ? 1 : 0;
    return d;
  });
  for (const th of $$('#tools-table th')) {
    th.setAttribute('aria-sort', th.dataset.col === col.key ? (dir > 0 ? 'ascending' : 'descending') : 'none');
  }
  $('#tools-heaviest').setAttribute('aria-pressed', String(col.key === HEAVIEST.key && dir === HEAVIEST.dir));
  const body = $('#tools-table tbody');
  // Rows are rebuilt on every sample; keep keyboard focus on the same tool.
  const focused = body.contains(document.activeElement) ? document.activeElement.closest('tr') : null;
  const focusedTool = focused ? focused.dataset.tool : null;
  body.replaceChildren(...rows.map((r) => {
    const { name, t } = r;
    const tr = el('tr', { tabIndex: 0, className: name === state.tool ? 'selected' : '', attrs: { 'aria-selected': String(name === state.tool) } });
    tr.dataset.tool = name;
    for (const c of TOOL_COLS) {
      if (c.key === 'name') {
        tr.append(nameCell(r));
        continue;
      }
      if (c.key === 'last') {
        tr.append(t ? timeCell('td', t.last_used) : el('td', { className: 'none', title: NEVER }, NONE));
        continue;
      }
      const tip = c.tip ? c.tip(r) : '';
      const td = el('td', { className: tip ? 'num none' : 'num', title: tip || null }, c.cell(r));
      if (t && c.key === 'errors' && t.error_count > 0) td.classList.add('bad');
      if (t && c.key === 'success' && t.success_rate < 100) td.classList.add(t.success_rate < 90 ? 'bad' : 'meh');
      tr.append(td);
    }
    return tr;
  }));
  if (focusedTool != null) {
    const again = Array.from(body.rows).find((tr) => tr.dataset.tool === focusedTool);
    if (again) again.focus();
  }
  $('#tools-empty').hidden = rows.length > 0;
  $('#tools-count').textContent = rows.length === 1 ? '1 tool' : `${rows.length} tools`;
  if (state.tool != null && !rows.some((r) => r.name === state.tool)) selectTool(null);
}

function selectTool(name) {
  state.tool = name;
  for (const tr of $$('#tools-table tbody tr')) {
    const on = tr.dataset.tool === name;
    tr.classList.toggle('selected', on);
    tr.setAttribute('aria-selected', String(on));
  }
  const panel = $('#tool-detail');
  panel.hidden = name == null;
  state.toolStore = null;
  if (name == null) return;
  setText($('#tool-detail-name'), name);
  if (!state.toolChart) {
    state.toolChart = new TimeChart($('#tool-plot'), {
      series: TOOL_FIGURES.map(([, label]) => ({ label })),
      format: fmt.ms,
      unit: 'ms',
      fixed: null,
      rule: null,
    });
  }
  state.toolChart.setData([[], [], [], []]);
  loadToolHistory().catch(failed);
}

// ---------------------------------------------------------------- performance

const ARROWS = { increasing: '↑', decreasing: '↓', stable: '→', insufficient_data: '·' };

// The key series, each drawn small over the selected window beside its
// trend; the rest are a table.
const KEY_TRENDS = [
  ['cpu_usage_percent', 'CPU usage', 'percent'],
  ['memory_usage_percent', 'Memory usage', 'percent'],
  ['throughput_operations_per_second', 'Throughput', 'rate'],
  ['error_rate_percent', 'Error rate', 'percent'],
  ['tools.p95_ms', 'Tool latency p95', 'ms'],
];
const trendCharts = new Map(); // series -> TimeChart

// trendChange is how much a series moved over its trend window: the trend
// line's rise or fall there as a share (%) of the series' average, so that
// series of any unit compare; null without a slope.
function trendChange(t) {
  if (!isNum(t.slope_per_minute) || !isNum(t.window_minutes)) return null;
  const move = t.slope_per_minute * t.window_minutes;
  const scale = Math.max(Math.abs(t.avg || 0), Math.abs(t.max || 0), Math.abs(t.min || 0));
  if (scale === 0) return move === 0 ? 0 : null;
  return (100 * move) / scale;
}

const directionText = (t) => [
  el('span', { className: 'arrow', attrs: { 'aria-hidden': 'true' } }, ARROWS[t.direction] || '?'), ' ',
  (t.direction || 'unknown').replace('_', ' '),
];

function buildTrendCharts() {
  $('#trend-charts').replaceChildren(...KEY_TRENDS.map(([m, title, kind]) => {
    const plot = el('div', { className: 'plot' });
    const box = el('section', { className: 'trend-chart', dataset: { series: m } },
      el('header', null,
        el('h3', null, `${title} (${UNITS[kind]})`),
        el('span', { className: 'trend' })),
      el('p', { className: 'trend-figures' }),
      plot);
    trendCharts.set(m, new TimeChart(plot, {
      series: [{ label: title }], format: fmt[kind], unit: UNITS[kind], fixed: null, rule: null, height: 110,
    }));
    return box;
  }));
}

function renderTrendCharts(trends) {
  for (const [m, , kind] of KEY_TRENDS) {
    const box = $(`#trend-charts [data-series="${m}"]`);
    const t = trends[m];
    const arrow = $('.trend', box);
    arrow.className = `trend ${t ? t.direction : 'insufficient_data'}`;
    arrow.replaceChildren(...directionText(t || { direction: 'insufficient_data' }));
    if (!t) arrow.lastChild.textContent = 'no trend';
    const ch = t ? trendChange(t) : null;
    setText($('.trend-figures', box), t
      ? `${isNum(ch) ? `${ch > 0 ? '+' : ''}${fmt.any(ch)} % over ${durationText(t.window_minutes * 60000)} · ` : ''}`
        + `min ${fmt[kind](t.min)} · avg ${fmt[kind](t.avg)} · max ${fmt[kind](t.max)}`
      : 'not measured');
    if (state.overview) trendCharts.get(m).setData(state.overview.columns([m]));
  }
}

function renderPerformance() {
  const r = state.report;
  if (!r) return;
  const all = r.trends || {};
  renderTrendCharts(all);
  const key = new Set(KEY_TRENDS.map(([m]) => m));
  const filter = $('#trend-filter').value.trim().toLowerCase();
  // Largest move first; series without a slope last, by name.
  const trends = Object.entries(all)
    .filter(([name]) => !key.has(name) && (!filter || name.toLowerCase().includes(filter)))
    .map(([name, t]) => [name, t, trendChange(t)])
    .sort(([a, , ca], [b, , cb]) => {
      if (isNum(ca) && isNum(cb) && Math.abs(ca) !== Math.abs(cb)) return Math.abs(cb) - Math.abs(ca);
      if (isNum(ca) !== isNum(cb)) return isNum(ca) ? -1 : 1;
      return a < b ? -1 : a > b ? 1 : 0;
    });
  $('#trends tbody').replaceChildren(...trends.map(([name, t, ch]) => el('tr', { dataset: { change: isNum(ch) ? String(ch) : '' } },
    el('td', { className: 'name' }, breakable(name)),
    el('td', { className: `trend ${t.direction}` }, ...directionText(t)),
    el('td', { className: 'num' }, isNum(ch) ? `${ch > 0 ? '+' : ''}${fmt.any(ch)} %` : NA),
    el('td', { className: 'num' }, isNum(t.slope_per_minute) ? fmt.any(t.slope_per_minute) : NA),
    el('td', { className: 'num' }, fmt.any(t.min)),
    el('td', { className: 'num' }, fmt.any(t.avg)),
    el('td', { className: 'num' }, fmt.any(t.max)),
    el('td', { className: 'num' }, String(t.samples)))));
  $('#trends-empty').hidden = trends.length > 0;

  // Leave the report alone while the reader is selecting text in it.
  const pre = $('#report-json');
  const sel = document.getSelection();
  if (!(sel && !sel.isCollapsed && pre.contains(sel.anchorNode))) setText(pre, JSON.stringify(r, null, 2));
  if (Date.now() - state.rawAt > 5000) refreshRaw();
}

async function refreshRaw() {
  state.rawAt = Date.now();
  const format = $('#raw-format').value;
  try {
    const text = await getText(`/api/metrics?format=${encodeURIComponent(format)}`);
    setText($('#raw'), text);
  } catch (e) {
    failed(e);
  }
}

// ---------------------------------------------------------------- alerts

let alertsBusy = false;
let alertsAgain = false;

// refreshAlerts fetches /api/alerts, coalescing calls made while a request
// is in flight into one more.
async function refreshAlerts() {
  if (alertsBusy) {
    alertsAgain = true;
    return;
  }
  alertsBusy = true;
  const gen = state.generation;
  try {
    const a = await getJSON('/api/alerts');
    if (gen === state.generation) {
      state.alerts = a;
      renderAlerts();
      renderCards();
    }
  } catch (e) {
    failed(e);
  } finally {
    alertsBusy = false;
    if (alertsAgain) {
      alertsAgain = false;
      refreshAlerts();
    }
  }
}

const levelChip = (level, text) => el('span', { className: `chip level-${level || 'none'}` }, text || level || 'none');

function valueText(v) {
  const r = reading(v);
  return r.value == null ? NA : fmt.any(r.value);
}

// thresholdText says which side of the threshold is bad; for a resolved
// alert the threshold is the level the value came back past.
function thresholdText(a) {
  const below = a.direction === 'below';
  if (a.transition === 'resolved') return `back ${below ? '≥' : '≤'} ${fmt.any(a.threshold)}`;
  return `${below ? '<' : '>'} ${fmt.any(a.threshold)}`;
}

// The history keeps up to 500 transitions; the newest are the ones to read.
const HISTORY_ROWS = 200;

// stackRow labels each cell of a row with its column's heading and wraps
// its content in one box: on a narrow screen the alert tables fold into one
// block per row, each value beside its label (see .stack in app.css).
const stackHeads = new Map();
function stackRow(table, tr) {
  let heads = stackHeads.get(table);
  if (!heads) {
    heads = $$(`${table} thead th`).map((th) => th.textContent);
    stackHeads.set(table, heads);
  }
  Array.from(tr.children).forEach((td, i) => {
    td.dataset.label = heads[i] || '';
    const box = document.createElement('span');
    box.append(...td.childNodes);
    td.append(box);
  });
  return tr;
}

function renderAlerts() {
  const a = state.alerts;
  if (!a) return;
  const active = a.active || [];
  $('#active tbody').replaceChildren(...active.map((s) => stackRow('#active', el('tr', { className: `state-${s.state}` },
    el('td', null, levelChip(s.unavailable ? 'info' : s.level, s.unavailable ? 'unavailable' : s.level)),
    el('td', null, s.state),
    el('td', { className: 'name' }, breakable(s.rule)),
    el('td', { className: 'name' }, breakable(s.metric)),
    el('td', { className: 'num' }, s.unavailable ? NA : valueText(s.value)),
    el('td', { className: 'num' }, thresholdText(s)),
    s.since && !s.since.startsWith('0001') ? timeCell('td', s.since) : el('td', null, s.unavailable || '')))));
  $('#active-empty').hidden = active.length > 0;

  const all = a.history || [];
  const hist = all.slice(0, HISTORY_ROWS);
  setText($('#history-count'), all.length > hist.length ? `latest ${hist.length} of ${all.length}` : '');
  $('#history tbody').replaceChildren(...hist.map((h) => stackRow('#history', el('tr', null,
    timeCell('td', h.at),
    el('td', null, levelChip(h.level)),
    el('td', null, h.transition),
    el('td', { className: 'name' }, breakable(h.rule)),
    el('td', { className: 'name' }, breakable(h.metric)),
    el('td', { className: 'num' }, valueText(h.value)),
    el('td', { className: 'num' }, thresholdText(h)),
    el('td', { className: 'message' }, h.message || '', h.advice ? el('small', { className: 'advice' }, h.advice) : null)))));
  $('#history-empty').hidden = hist.length > 0;

  const handlers = a.handlers || [];
  $('#handlers tbody').replaceChildren(...handlers.map((h) => stackRow('#handlers', el('tr', null,
    el('td', { className: 'name' }, h.name),
    el('td', { className: 'num' }, fmt.count(h.delivered)),
    el('td', { className: `num${h.failed ? ' bad' : ''}` }, fmt.count(h.failed)),
    el('td', { className: `num${h.dropped ? ' bad' : ''}` }, fmt.count(h.dropped)),
    el('td', { className: 'num' }, fmt.count(h.queued)),
    el('td', { className: 'message' }, h.last_error || '')))));
  $('#handlers-empty').hidden = handlers.length > 0;
  setText($('#rules-count'), `${a.rules} rule${a.rules === 1 ? '' : 's'}`);

  // The tab's badge counts what is firing, coloured by the worst level.
  const firing = active.filter((s) => s.state === 'firing');
  const badge = $('#alert-badge');
  badge.hidden = firing.length === 0;
  setText(badge, String(firing.length));
  badge.dataset.level = firing.some((s) => s.level === 'critical') ? 'critical' : 'warning';
}

// ---------------------------------------------------------------- tabs

// showTab shows the tab a hash names: "calls", or "calls?tool=x&…", whose
// query is the Calls tab's filters, so that a filtered log has a link.
function showTab(hash) {
  let [name, params] = hash.split('?', 2);
  if (!TABS.includes(name)) name = 'overview';
  if (name === 'calls') filtersFromURL(params || '');
  state.tab = name;
  for (const t of TABS) {
    const on = t === name;
    const btn = $(`#tab-${t}`);
    btn.setAttribute('aria-selected', String(on));
    btn.tabIndex = on ? 0 : -1;
    $(`#panel-${t}`).hidden = !on;
  }
  showCalls(name === 'calls');
  if (name === 'performance') renderPerformance();
}

// ---------------------------------------------------------------- auth

function showAuth() {
  if (state.live) state.live.stop();
  state.live = null;
  state.generation++;
  document.body.classList.add('locked');
  $('#auth').hidden = false;
  const err = $('#auth-error');
  err.hidden = !hasToken();
  setText(err, hasToken() ? 'That token was not accepted. Check it and try again.' : '');
  showStatus({ mode: 'auth' });
  $('#auth-token').focus();
}

function bindAuth() {
  $('#auth-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const input = $('#auth-token');
    const t = input.value.trim();
    if (!t) return;
    // Header values must be Latin-1; say so instead of failing obscurely.
    if (!/^[\x21-\x7e]+$/.test(t)) {
      const err = $('#auth-error');
      err.hidden = false;
      setText(err, 'A token is printable ASCII without spaces.');
      return;
    }
    setToken(t);
    input.value = '';
    $('#auth').hidden = true;
    document.body.classList.remove('locked');
    start();
  });
}

// ---------------------------------------------------------------- start

let retryTimer = 0;

function failed(e) {
  if (e instanceof AuthError) return; // the form is already showing
  banner(`Could not load data: ${e.message}`);
}

async function start() {
  clearTimeout(retryTimer);
  if (state.live) state.live.stop();
  state.live = null;
  state.generation++;
  const gen = state.generation;
  showStatus({ mode: 'connecting' });
  try {
    applyConfig(await getJSON('/api/config'));
    handleReport(await getJSON('/api/metrics'));
  } catch (e) {
    if (e instanceof AuthError) return;
    if (gen !== state.generation) return;
    failed(e);
    showStatus({ mode: 'offline', pollSeconds: 5 });
    retryTimer = setTimeout(start, 5000);
    return;
  }
  if (gen !== state.generation) return;
  // Charts and alerts are worth having but not worth waiting for: the
  // live connection starts at once.
  loadHistory().catch(failed);
  refreshAlerts();
  refreshCatalog();
  refreshSessionsLine();
  state.live = new Live({
    pollSeconds: state.pollSeconds,
    onReport: handleReport,
    onAlert: () => refreshAlerts(),
    onCalls,
    onStatus: showStatus,
    onAuth: showAuth,
  });
  state.live.start();
}

function bind() {
  for (const t of TABS) {
    $(`#tab-${t}`).addEventListener('click', () => {
      if (location.hash.split('?')[0] !== `#${t}`) location.hash = t;
      else showTab(location.hash.slice(1));
    });
  }
  // Arrow keys move between tabs, as in any tab list.
  $('.tabs').addEventListener('keydown', (ev) => {
    const i = TABS.indexOf(state.tab);
    let j = -1;
    if (ev.key === 'ArrowRight') j = (i + 1) % TABS.length;
    else if (ev.key === 'ArrowLeft') j = (i + TABS.length - 1) % TABS.length;
    if (j < 0) return;
    ev.preventDefault();
    location.hash = TABS[j];
    $(`#tab-${TABS[j]}`).focus();
  });
  window.addEventListener('hashchange', () => showTab(location.hash.slice(1)));

  const win = $('#window');
  win.replaceChildren(...WINDOWS.map((w) => el('option', { value: w }, w)));
  try {
    const saved = localStorage.getItem('pbatunnel.window');
    if (WINDOWS.includes(saved)) state.window = saved;
  } catch {
    // No storage: keep the default.
  }
  win.value = state.window;
  win.addEventListener('change', () => {
    state.window = win.value;
    try {
      localStorage.setItem('pbatunnel.window', state.window);
    } catch {
      // As above.
    }
    loadHistory().catch(failed);
  });

  const body = $('#tools-table tbody');
  body.addEventListener('click', (ev) => {
    const tr = ev.target.closest('tr');
    if (tr) selectTool(tr.dataset.tool === state.tool ? null : tr.dataset.tool);
  });
  body.addEventListener('keydown', (ev) => {
    if (ev.key !== 'Enter' && ev.key !== ' ') return;
    const tr = ev.target.closest('tr');
    if (!tr) return;
    ev.preventDefault();
    selectTool(tr.dataset.tool);
  });
  $('#tool-close').addEventListener('click', () => selectTool(null));
  $('#tools-heaviest').addEventListener('click', () => {
    state.sort = { ...HEAVIEST };
    renderTools();
  });

  $('#trend-filter').addEventListener('input', renderPerformance);
  $('#raw-format').addEventListener('change', refreshRaw);
  $('#raw-refresh').addEventListener('click', refreshRaw);

  // Charts take their colours from CSS; redraw them when the scheme flips.
  matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => {
    for (const c of state.charts.values()) c.rebuild();
    for (const c of trendCharts.values()) c.rebuild();
    if (state.toolChart) state.toolChart.rebuild();
  });

  bindAuth();
  onUnauthorized(showAuth);
}

buildCards();
buildCharts();
buildTrendCharts();
buildToolsHead();
bind();
initCalls({ failed });
showTab(location.hash.slice(1));
setInterval(tick, 1000);
start();
