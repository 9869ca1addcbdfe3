// Time-series charts on uPlot (vendored in /static/vendor), with the
// configured warning and critical levels drawn as bands behind the lines.

/* global uPlot */

const HEIGHT = 190;

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

// palette reads the chart colours from the stylesheet, so that light and
// dark schemes are both decided in CSS.
function palette() {
  return {
    axis: cssVar('--chart-axis'),
    grid: cssVar('--chart-grid'),
    series: [cssVar('--series-1'), cssVar('--series-2'), cssVar('--series-3'), cssVar('--series-4')],
    warn: cssVar('--warn'),
    crit: cssVar('--crit'),
    warnFill: cssVar('--warn-band'),
    critFill: cssVar('--crit-band'),
  };
}

const hm = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
const hms = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
const dhm = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });

// timeLabel labels an x-axis tick at t (Unix seconds) on one line, as
// precisely as the tick spacing (incr, seconds) needs: the windows span at
// most a day, so a date is shown only for the widest spacing.
function timeLabel(t, incr) {
  const d = new Date(t * 1000);
  if (incr < 1) return `:${String(d.getSeconds()).padStart(2, '0')}.${String(d.getMilliseconds()).padStart(3, '0')}`;
  if (incr < 60) return hms.format(d);
  if (incr < 6 * 3600) return hm.format(d);
  return dhm.format(d);
}

const compact = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });

// decadeLabel labels a log axis' tick: the powers of ten only, as the
// ticks between them are too close to read.
function decadeLabel(v) {
  if (!(v > 0)) return '';
  const e = Math.log10(v);
  return Math.abs(e - Math.round(e)) < 1e-9 ? compact.format(v) : '';
}

// A TimeChart shows one or more series against time.
//
// spec: {series: [{label}], format(v) -> string, unit, fixed: [min, max]
// or null, rule: {direction, warning, critical} or null, log: a
// logarithmic y axis, height: in pixels, 190 unless given}.
export class TimeChart {
  constructor(container, spec) {
    this.container = container;
    this.spec = spec;
    this.u = null;
    this.data = null;
    // Size to the container, which the page layout sizes: the chart never
    // widens its own box, so resizing cannot feed back into itself.
    this.observer = new ResizeObserver(() => {
      cancelAnimationFrame(this.frame);
      this.frame = requestAnimationFrame(() => this.fit());
    });
    this.observer.observe(container);
  }

  setRule(rule) {
    this.spec.rule = rule;
    if (this.u) this.u.redraw(false, false);
  }

  // setData replaces the columns: [times (s), values…].
  setData(data) {
    this.data = data;
    // The point count is visible to tests and to anyone inspecting the page.
    this.container.dataset.points = String(data[0].length);
    if (this.u) this.u.setData(this.shown());
    else if (this.container.clientWidth > 0) this.create();
  }

  // setLog switches the y axis between linear and logarithmic.
  setLog(on) {
    if (Boolean(this.spec.log) === on) return;
    this.spec.log = on;
    this.rebuild();
  }

  // shown is the data as drawn: on a log axis a value of 0 or less has no
  // place, so it is a gap rather than a point at minus infinity.
  shown() {
    if (!this.spec.log || !this.data) return this.data;
    return this.data.map((col, i) => (i === 0 ? col : col.map((v) => (v != null && v > 0 ? v : null))));
  }

  fit() {
    const w = this.container.clientWidth;
    if (w <= 0) return;
    if (!this.u) {
      if (this.data) this.create();
      return;
    }
    if (w !== this.u.width) this.u.setSize({ width: w, height: this.spec.height || HEIGHT });
  }

  // rebuild recreates the chart, for example after the colour scheme changed.
  rebuild() {
    if (this.u) this.u.destroy();
    this.u = null;
    if (this.data) this.fit();
  }

  destroy() {
    this.observer.disconnect();
    if (this.u) this.u.destroy();
    this.u = null;
  }

  create() {
    const p = palette();
    const spec = this.spec;
    const fmtVal = (v) => (v == null ? '–' : `${spec.format(v)}${spec.unit ? ' ' + spec.unit : ''}`);
    const axis = {
      stroke: p.axis,
      grid: { stroke: p.grid, width: 1 },
      ticks: { stroke: p.grid, width: 1 },
    };
    const opts = {
      width: this.container.clientWidth,
      height: spec.height || HEIGHT,
      pxAlign: 0,
      // Room on the right for the last time label, which hangs past the
      // plot's edge.
      padding: [8, 28, 0, 0],
      cursor: { drag: { x: true, y: false } },
      legend: { live: true },
      scales: {
        x: { time: true },
        y: spec.log
          ? { distr: 3, log: 10, range: (u, min, max) => this.logRange(min, max) }
          : { range: (u, min, max) => this.range(min, max) },
      },
      axes: [
        { ...axis, size: 32, space: 72, values: (u, splits, ax, space, incr) => splits.map((t) => timeLabel(t, incr)) },
        spec.log ? { ...axis, size: 50, values: (u, splits) => splits.map(decadeLabel) } : { ...axis, size: 50 },
      ],
      series: [
        { value: (u, v) => (v == null ? '–' : new Date(v * 1000).toLocaleTimeString()) },
        ...spec.series.map((s, i) => ({
          label: s.label,
          stroke: p.series[i % p.series.length],
          width: 2,
          spanGaps: false,
          points: { size: 4 },
          value: (u, v) => fmtVal(v),
        })),
      ],
      hooks: { drawClear: [(u) => this.drawLevels(u, p)] },
    };
    this.u = new uPlot(opts, this.shown(), this.container);
    // The scale in use, for tests and for anyone inspecting the page.
    this.container.dataset.distr = String(this.u.scales.y.distr);
  }

  // logRange spans whole decades around the data (values above 0 only),
  // and one decade when there is none.
  logRange(min, max) {
    let lo = Number.isFinite(min) && min > 0 ? min : null;
    let hi = Number.isFinite(max) && max > 0 ? max : null;
    if (lo === null || hi === null) return [1, 10];
    lo = 10 ** Math.floor(Math.log10(lo));
    hi = 10 ** Math.ceil(Math.log10(hi));
    if (hi <= lo) hi = lo * 10;
    return [lo, hi];
  }

  // range fixes percentages to 0–100 and otherwise starts at 0 and leaves
  // room for both the data and the alert levels, so the bands show where
  // the line stands against them.
  range(min, max) {
    if (this.spec.fixed) return this.spec.fixed;
    let hi = Number.isFinite(max) ? max : 0;
    const r = this.spec.rule;
    if (r) {
      for (const lv of [r.warning, r.critical]) if (Number.isFinite(lv)) hi = Math.max(hi, lv);
    }
    hi = hi > 0 ? hi * 1.1 : 1;
    if (this.spec.max != null) hi = Math.min(hi, this.spec.max);
    const lo = Number.isFinite(min) && min < 0 ? min * 1.1 : 0;
    return [lo, hi];
  }

  drawLevels(u, p) {
    const r = this.spec.rule;
    if (!r) return;
    const { ctx, bbox } = u;
    const top = bbox.top;
    const bottom = bbox.top + bbox.height;
    const y = (v) => Math.min(bottom, Math.max(top, u.valToPos(v, 'y', true)));
    const band = (from, to, fill) => {
      const a = y(from);
      const b = y(to);
      if (a !== b) {
        ctx.fillStyle = fill;
        ctx.fillRect(bbox.left, Math.min(a, b), bbox.width, Math.abs(a - b));
      }
    };
    const [lo, hi] = [u.scales.y.min, u.scales.y.max];
    const w = r.warning;
    const c = r.critical;
    ctx.save();
    if (r.direction === 'below') {
      if (Number.isFinite(w)) band(Number.isFinite(c) ? c : lo, w, p.warnFill);
      if (Number.isFinite(c)) band(lo, c, p.critFill);
    } else {
      if (Number.isFinite(w)) band(w, Number.isFinite(c) ? c : hi, p.warnFill);
      if (Number.isFinite(c)) band(c, hi, p.critFill);
    }
    ctx.lineWidth = Math.max(1, devicePixelRatio);
    ctx.setLineDash([6 * devicePixelRatio, 4 * devicePixelRatio]);
    for (const [lv, colour] of [[w, p.warn], [c, p.crit]]) {
      if (!Number.isFinite(lv) || lv < lo || lv > hi) continue;
      const py = Math.round(y(lv)) + 0.5;
      ctx.strokeStyle = colour;
      ctx.beginPath();
      ctx.moveTo(bbox.left, py);
      ctx.lineTo(bbox.left + bbox.width, py);
      ctx.stroke();
    }
    ctx.restore();
  }
}

// SeriesStore keeps the columns of several metrics over a sliding time
// window: loaded from /api/history, extended by live samples.
export class SeriesStore {
  constructor(metrics, spanSeconds) {
    this.metrics = metrics;
    this.span = spanSeconds;
    this.times = [];
    this.cols = metrics.map(() => []);
  }

  // load takes an /api/history response for the same metrics.
  load(h) {
    this.times = Array.from(h.times || []);
    this.cols = this.metrics.map((m) => {
      const k = (h.metrics || []).indexOf(m);
      return k >= 0 && h.values && h.values[k] ? Array.from(h.values[k]) : this.times.map(() => null);
    });
    this.unavailable = h.unavailable || {};
  }

  // append adds one point (values in metric order; null for unmeasured)
  // unless it is not newer than the last, and drops what left the window.
  append(t, values) {
    const n = this.times.length;
    if (n > 0 && t <= this.times[n - 1]) return false;
    this.times.push(t);
    values.forEach((v, k) => this.cols[k].push(Number.isFinite(v) ? v : null));
    const cutoff = t - this.span;
    let drop = 0;
    while (drop < this.times.length && this.times[drop] < cutoff) drop++;
    if (drop > 0) {
      this.times.splice(0, drop);
      for (const c of this.cols) c.splice(0, drop);
    }
    return true;
  }

  // columns returns uPlot data for a subset of the metrics.
  columns(metrics) {
    return [this.times, ...metrics.map((m) => this.cols[this.metrics.indexOf(m)])];
  }
}
