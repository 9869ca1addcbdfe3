// DOM and formatting functions shared by the page's modules.
//
// Everything that came from the server (tool names, alert messages, metric
// names) reaches the page as text nodes, never as markup: el() sets
// properties and appends strings with textContent semantics, and nothing
// in this page assigns innerHTML.

// el builds an element. props are set as properties (className, title, …);
// "dataset" and "attrs" take objects. Children may be nodes, strings,
// numbers, or null/false to skip.
export function el(tag, props, ...children) {
  const node = document.createElement(tag);
  if (props) {
    for (const [k, v] of Object.entries(props)) {
      if (v == null || v === false) continue;
      if (k === 'dataset') Object.assign(node.dataset, v);
      else if (k === 'attrs') for (const [a, av] of Object.entries(v)) node.setAttribute(a, av);
      else node[k] = v;
    }
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const c of children) {
    if (c == null || c === false) continue;
    if (Array.isArray(c)) append(node, c);
    else node.append(c instanceof Node ? c : String(c));
  }
}

// breakable returns text that may wrap after '.', '_' and '/', so long metric
// and tool names fold at their joints rather than mid-word.
export function breakable(text) {
  const frag = document.createDocumentFragment();
  for (const part of String(text).split(/(?<=[._/])/)) {
    if (frag.childNodes.length > 0) frag.append(document.createElement('wbr'));
    frag.append(part);
  }
  return frag;
}

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

// setText changes a node's text only when it differs, so that live updates
// do not disturb a reader's text selection or restart CSS transitions.
export function setText(node, text) {
  const s = String(text);
  if (node.textContent !== s) node.textContent = s;
}

export const isNum = (v) => typeof v === 'number' && Number.isFinite(v);

// reading unwraps a report "Reading": a number, or {unavailable: reason}.
export function reading(v) {
  if (isNum(v)) return { value: v, reason: '' };
  if (v && typeof v === 'object' && typeof v.unavailable === 'string') return { value: null, reason: v.unavailable };
  return { value: null, reason: 'not reported' };
}

const grouped = new Map();
function nf(digits) {
  let f = grouped.get(digits);
  if (!f) {
    f = new Intl.NumberFormat('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
    grouped.set(digits, f);
  }
  return f;
}

// fixed formats v with exactly digits decimals and thousands separators.
export const fixed = (v, digits) => nf(digits).format(v);

// Display rules, one per kind of figure. Each keeps enough digits to
// see a change without pretending to more precision than the
// measurement has.
export const fmt = {
  percent: (v) => fixed(v, 1),
  count: (v) => fixed(Math.round(v), 0),
  ms: (v) => fixed(v, Math.abs(v) < 10 ? 2 : Math.abs(v) < 1000 ? 1 : 0),
  rate: (v) => fixed(v, Math.abs(v) < 10 ? 2 : 1),
  mib: (v) => fixed(v, Math.abs(v) < 10 ? 2 : 1),
  // any is for series of unknown kind, such as the trend table's: as many
  // decimals as matter at that magnitude, and no trailing zeros.
  any: (v) => {
    const a = Math.abs(v);
    if (a >= 1e5) return compact.format(v);
    const digits = a >= 100 ? 1 : a >= 1 ? 2 : 3;
    // Round first, so that a tiny negative shows as 0 and not "-0".
    return trimmed(digits).format(Number(v.toFixed(digits)) + 0);
  },
};
const trimmedFmts = new Map();
function trimmed(digits) {
  let f = trimmedFmts.get(digits);
  if (!f) {
    f = new Intl.NumberFormat('en-US', { maximumFractionDigits: digits });
    trimmedFmts.set(digits, f);
  }
  return f;
}
const compact = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 2 });

// bytesText shows a size in human units: B, KiB, MiB; "—" when it was
// not measured.
export function bytesText(v) {
  if (!isNum(v)) return '—';
  if (v < 1024) return `${fmt.count(v)} B`;
  if (v < 1024 * 1024) return `${fixed1(v / 1024)} KiB`;
  return `${fixed1(v / 1048576)} MiB`;
}
const fixed1 = (v) => (v < 10 ? v.toFixed(1) : fmt.count(v));

export const UNITS = { percent: '%', ms: 'ms', rate: 'ops/s', count: '', mib: 'MiB' };

// durationText says a length of time (ms) in its two largest units:
// "850 ms", "29 s", "3 min 5 s", "2 h 10 min"; "—" when unknown.
export function durationText(ms) {
  if (!isNum(ms) || ms < 0) return '—';
  const s = Math.round(ms / 1000);
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  const h = Math.floor(m / 60);
  return `${h} h ${m % 60} min`;
}

// relTime says how long ago t (ms since the epoch) was, briefly.
export function relTime(t, now = Date.now()) {
  const s = Math.round((now - t) / 1000);
  if (!Number.isFinite(s)) return '';
  if (s < 1) return 'just now';
  if (s < 60) return `${s} s ago`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ago`;
  return `${Math.floor(h / 24)} d ago`;
}

const absFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
export const absTime = (t) => absFmt.format(new Date(t));

// timeCell renders a time as "12 s ago" that keeps ticking (see
// refreshRelTimes), with the absolute time on hover.
export function timeCell(tag, iso, props) {
  const t = Date.parse(iso);
  if (!iso || !Number.isFinite(t)) return el(tag, props, 'never');
  return el(tag, { ...props, title: absTime(t), dataset: { ...(props && props.dataset), t: String(t) } },
    relTime(t));
}

export function refreshRelTimes(root = document) {
  const now = Date.now();
  for (const node of root.querySelectorAll('[data-t]')) setText(node, relTime(Number(node.dataset.t), now));
}

// parseSpan turns "15m", "1h", "24h" into seconds.
export function parseSpan(s) {
  const m = /^(\d+)([smhd])$/.exec(s);
  if (!m) return 900;
  return Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[m[2]];
}
