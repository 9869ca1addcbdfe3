// How the Overview judges a card: pure functions of a rule, a value, the
// alert engine's verdict and the report, so that they can be checked
// apart from the page.

import { isNum, reading } from './util.js';

export const RANK = { '': 0, ok: 1, idle: 1, info: 1, warning: 2, critical: 3 };

// levelOf is where v stands against rule's levels: '', ok, warning or
// critical.
export function levelOf(rule, v) {
  if (!rule || !isNum(v)) return '';
  const beyond = (lv) => isNum(lv) && (rule.direction === 'below' ? v < lv : v > lv);
  if (beyond(rule.critical)) return 'critical';
  if (beyond(rule.warning)) return 'warning';
  return 'ok';
}

// idleOf says whether the report's server had no tool calls in the last
// minute: its throughput over the minute is unavailable (no time between
// samples yet, say) or 0. It returns the reason, '' when calls were made.
export function idleOf(report) {
  const perf = report && report.performance;
  const tp = perf && perf.throughput_operations_per_second;
  if (!tp) return '';
  const r = reading(tp.last_minute);
  if (r.value === null) return r.reason || 'no tool calls';
  return r.value === 0 ? 'no tool calls in the last minute' : '';
}

// cardLevel is a card's state. Thresholds decide it, and a firing alert
// raises it. A rule that applies only under a condition (only_if, such as
// throughput judged only while the server is busy) depends on a series
// the page does not have, so there the alert engine's verdict (pending or
// firing) stands alone. The throughput of a server with no calls in the
// last minute is not a failure nor a figure to judge: it is 'idle'.
//
// engine(firingOnly) is the highest level the engine holds for the series.
export function cardLevel({ key, rule, value, engine, idle }) {
  if (!rule || !isNum(value)) return '';
  if (key === 'throughput_operations_per_second' && idle) return 'idle';
  if (rule.only_if) return engine(false) || 'ok';
  const lv = levelOf(rule, value);
  const fl = engine(true);
  return RANK[fl] > RANK[lv] ? fl : lv;
}
