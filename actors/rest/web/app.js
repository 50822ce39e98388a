/* weir's web UI: one page, vanilla JS, served from the binary by the REST API's port
 * (actors/rest/assets.h). Each view polls the REST API every refresh-interval (GET /config) and
 * draws what it gets; the routes are hashes:
 *   #/overview  #/jobs/ID  #/taskmanagers  #/actors  #/actors/NODE/PATH (a mailbox)
 * Every error (a failed request, an exception, a rejected promise) is shown in #weir-errors and
 * stays until dismissed: the browser test expects it empty. body[data-ready] counts the renders of
 * the current view, so a test knows the page has drawn. */
(() => {
  'use strict';

  const $ = (id) => document.getElementById(id);
  const state = {refresh: 3000, timer: 0, seq: 0, renders: 0, samples: {},
                 actors: null, sort: {key: 'depth', desc: true}};

  /* ---- errors and notices ---- */

  /* Shows message until dismissed; the same message again counts (×N) instead. */
  function showError(message) {
    const text = String(message);
    const same = [...$('weir-errors').children].find((e) => e.dataset.text === text);
    if (same) {
      same.dataset.count = Number(same.dataset.count) + 1;
      same.firstChild.textContent = `${text} (×${same.dataset.count})`;
      return;
    }
    const item = h('div', {class: 'error', 'data-text': text, 'data-count': 1}, h('span', null, text),
                   h('button', {title: 'dismiss', onclick: () => item.remove()}, '×'));
    $('weir-errors').append(item);
  }
  window.addEventListener('error', (e) => showError(e.message || 'an error'));
  window.addEventListener('unhandledrejection', (e) => showError(e.reason && e.reason.message
                                                                 || String(e.reason)));
  const notice = (text) => { $('weir-notice').textContent = text; };

  /* ---- the REST API ---- */

  const token = $('weir-token');
  token.value = sessionStorage.getItem('weir-token') || '';
  token.addEventListener('change', () => {
    sessionStorage.setItem('weir-token', token.value);
    $('weir-errors').replaceChildren(); /* (those of the old token) */
    tick();
  });
  $('weir-token-form').addEventListener('submit', (e) => e.preventDefault());

  /* The JSON answer to method path, or an Error saying what the server said (err.status). */
  async function api(path, method = 'GET', body) {
    const headers = {};
    if (token.value) headers.Authorization = 'Bearer ' + token.value;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let r, text;
    try {
      r = await fetch(path, {method, headers,
                             body: body === undefined ? undefined : JSON.stringify(body)});
      text = await r.text();
    } catch (e) { /* no answer at all: say to what */
      throw new Error(`${method} ${path}: ${e.message}`);
    }
    let doc = null;
    try { doc = text ? JSON.parse(text) : null; } catch (e) { doc = null; }
    if (!r.ok) {
      const why = doc && doc.errors ? doc.errors.join('; ') : text.slice(0, 200);
      const hint = {401: ' (type a REST token at the top right)',
                    403: ' (this token may only read)'}[r.status] || '';
      const err = new Error(`${method} ${path}: ${r.status} ${why}${hint}`);
      err.status = r.status;
      throw err;
    }
    return doc;
  }

  /* ---- DOM ---- */

  /* An element: attrs (on* are listeners, the rest attributes), then children (strings, nodes,
   * arrays of them; null and false skipped). */
  function make(ns, tag, attrs, kids) {
    const el = ns ? document.createElementNS(ns, tag) : document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else if (v !== null && v !== undefined && v !== false) el.setAttribute(k, v);
    }
    for (const kid of kids.flat(Infinity))
      if (kid !== null && kid !== undefined && kid !== false)
        el.append(kid instanceof Node ? kid : String(kid));
    return el;
  }
  const h = (tag, attrs, ...kids) => make(null, tag, attrs, kids);
  const s = (tag, attrs, ...kids) => make('http://www.w3.org/2000/svg', tag, attrs, kids);

  const table = (heads, rows) => h('table', null, h('thead', null, h('tr', null,
    heads.map((x) => h('th', null, x)))), h('tbody', null, rows));
  const facts = (pairs) => h('dl', {class: 'facts'}, pairs.map(([k, v]) =>
    h('div', {'data-fact': k}, h('dt', null, k), h('dd', null, v))));

  /* ---- numbers ---- */

  function num(x) {
    if (x === null || x === undefined || Number.isNaN(x)) return '–';
    const a = Math.abs(x);
    if (a >= 1e9) return (x / 1e9).toFixed(1) + 'G';
    if (a >= 1e6) return (x / 1e6).toFixed(1) + 'M';
    if (a >= 1e4) return (x / 1e3).toFixed(1) + 'k';
    return a >= 100 || Number.isInteger(x) ? String(Math.round(x)) : x.toFixed(1);
  }
  function bytes(n) {
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i ? n.toFixed(1) : String(n)) + ' ' + units[i];
  }
  function dur(ms) {
    if (ms === null || ms === undefined || ms < 0) return '–';
    if (ms < 1000) return Math.round(ms) + ' ms';
    const steps = [[60e3, 1e3, 's'], [3600e3, 60e3, 'min'], [86400e3, 3600e3, 'h']];
    for (const [below, unit, name] of steps)
      if (ms < below) return (ms / unit).toFixed(1) + ' ' + name;
    return num(ms / 86400e3) + ' d';
  }
  /* Local time as 2026-12-05 14:10:23 (Sweden's locale writes ISO dates). */
  const when = (ms) => (ms > 0 ? new Date(ms).toLocaleString('sv-SE') : '–');
  const badge = (st) => h('span', {class: 'badge ' + String(st).toLowerCase()}, st);

  /* ---- views: each returns the view's DOM, drawn anew at every refresh ---- */

  async function overview() {
    const [o, jobs] = await Promise.all([api('/overview'), api('/jobs/overview')]);
    return h('section', null, h('h1', null, 'Cluster'),
      facts([['TaskManagers', o.taskmanagers], ['slots', o['slots-total']],
             ['slots available', o['slots-available']], ['jobs running', o['jobs-running']],
             ['finished', o['jobs-finished']], ['cancelled', o['jobs-cancelled']],
             ['failed', o['jobs-failed']], ['leader', o.leader], ['HA', o.ha],
             ['version', o['weir-version']]]),
      h('h2', null, 'Jobs'),
      table(['job', 'name', 'state', 'started', 'duration', 'slots'], jobs.jobs.map((j) =>
        h('tr', null, h('td', null, h('a', {href: '#/jobs/' + j.jid}, j.jid)), h('td', null, j.name),
          h('td', null, badge(j.state)), h('td', null, when(j['start-time'])),
          h('td', null, dur(j.duration)), h('td', null, j.slots)))));
  }

  async function taskmanagers() {
    const tms = (await api('/taskmanagers')).taskmanagers;
    return h('section', null, h('h1', null, 'TaskManagers'),
      table(['id', 'endpoint', 'status', 'slots', 'free', 'last heartbeat', 'malformed frames'],
        tms.map((t) => h('tr', null,
          h('td', null, h('a', {href: `#/actors/${t.id}/taskmanager`}, t.id)), h('td', null, t.path),
          h('td', null, badge(t.status)), h('td', null, t.slotsNumber), h('td', null, t.freeSlots),
          h('td', null, dur(t.timeSinceLastHeartbeat) + ' ago'),
          h('td', null, t.malformedFrames)))));
  }

  /* ---- a job ---- */

  /* Per-second rates of a job's counters: between the newest answer and the oldest one kept (up
   * to 10 s of the server's clock), or, until two answers are 1 s apart, since the job started. */
  function rates(job) {
    const counters = job.vertices.map((v) => ({in: v.metrics['read-records'],
      out: v.metrics['write-records']}));
    const kept = (state.samples[job.jid] || []).filter((x) => job.now - x.now <= 10e3
                                                       && x.attempt === job.attempt);
    kept.push({now: job.now, attempt: job.attempt, counters});
    state.samples = {[job.jid]: kept};
    const old = kept[0], dt = (job.now - old.now) / 1e3;
    const live = dt >= 1, span = live ? dt : Math.max(job.duration, 1) / 1e3;
    return counters.map((c, i) => {
      const base = live ? old.counters[i] : {in: 0, out: 0};
      return {live, in: (c.in - base.in) / span, out: (c.out - base.out) / span};
    });
  }

  /* Each vertex's backpressure level: GET .../backpressure (Flink's: its worst subtask's share of
   * the last second its output waited). */
  function backpressure(job) {
    return Promise.all(job.vertices.map((v) =>
      api(`/jobs/${job.jid}/vertices/${v.id}/backpressure`).then((b) => b.backpressureLevel)));
  }

  /* The vertices in columns by their distance from a source, edges from Flink's plan
   * (plan.nodes[].inputs: the vertices feeding each). */
  function graph(job, rate, levels) {
    const W = 220, H = 118, GAP = 70, VGAP = 20, n = job.vertices.length;
    const index = new Map(job.vertices.map((v, i) => [String(v.id), i]));
    const edges = ((job.plan && job.plan.nodes) || []).flatMap((p) => (p.inputs || []).map((q) =>
      [index.get(String(q.id)), index.get(String(p.id))])).filter(([a, b]) => a >= 0 && b >= 0);
    const col = new Array(n).fill(0), row = new Array(n).fill(0), rows = [];
    for (let pass = 0; pass < n; pass++)  /* (edges go forward: n passes settle every column) */
      edges.forEach(([a, b]) => { col[b] = Math.max(col[b], col[a] + 1); });
    col.forEach((c, i) => { row[i] = rows[c] = (rows[c] === undefined ? 0 : rows[c] + 1); });
    const x = (i) => 10 + col[i] * (W + GAP), y = (i) => 10 + row[i] * (H + VGAP);
    const width = Math.max(...col, 0) * (W + GAP) + W + 20;
    const height = (Math.max(...rows, 0) + 1) * (H + VGAP) + 10;
    return s('svg', {class: 'graph', width, height},
      s('defs', null, s('marker', {id: 'arrow', viewBox: '0 0 10 10', refX: 10, refY: 5,
        markerWidth: 8, markerHeight: 8, orient: 'auto'}, s('path', {d: 'M0,0 L10,5 L0,10 z'}))),
      edges.map(([a, b]) => s('line', {class: 'edge', 'data-edge': `${a}-${b}`, x1: x(a) + W,
                                       y1: y(a) + H / 2, x2: x(b), y2: y(b) + H / 2,
                                       'marker-end': 'url(#arrow)'})),
      job.vertices.map((v, i) => {
        const r = rate[i], wm = v.metrics.watermark, t = (dy, text, attrs) =>
          s('text', Object.assign({x: x(i) + 10, y: y(i) + dy}, attrs), text);
        return s('g', {class: 'vertex', 'data-vertex': v.name},
          s('rect', {x: x(i), y: y(i), width: W, height: H, rx: 6}),
          s('title', null, v.name),
          t(20, v.name.length > 30 ? v.name.slice(0, 29) + '…' : v.name, {class: 'name'}),
          t(38, `parallelism ${v.parallelism} · ${v.status}`),
          t(56, `in ${num(r.in)}/s · out ${num(r.out)}/s`,
            {class: 'rate', 'data-in': r.in.toFixed(3), 'data-out': r.out.toFixed(3)}),
          t(74, 'backpressure ' + levels[i], {class: 'bp ' + levels[i]}),
          t(92, 'watermark ' + (wm > 0 ? when(wm) : 'none')),
          t(110, 'lag ' + (wm > 0 ? dur(job.now - wm) : '–')));
      }));
  }

  /* Checkpoint durations as bars and state sizes as a line, the newest 30. */
  function ckptChart(history) {
    const last = history.slice(-30), W = 640, H = 160, bw = Math.min(W / Math.max(last.length, 1), 24);
    const maxD = Math.max(1, ...last.map((c) => c.end_to_end_duration));
    const maxS = Math.max(1, ...last.map((c) => c.state_size));
    const y = (v, max) => 20 + (H - 30) * (1 - v / max);
    return s('svg', {class: 'chart', width: W + 90, height: H + 10},
      s('text', {x: 0, y: 12}, `duration (bars, max ${dur(maxD)})`),
      s('text', {x: W - 160, y: 12, class: 'size'}, `size (line, max ${bytes(maxS)})`),
      last.map((c, i) => s('rect', {class: 'bar ' + c.status.toLowerCase(), x: i * bw + 2,
        y: y(c.end_to_end_duration, maxD), width: Math.max(bw - 4, 1),
        height: H - 10 - y(c.end_to_end_duration, maxD)},
        s('title', null, `#${c.id} ${c.status}: ${dur(c.end_to_end_duration)}, ` +
          bytes(c.state_size)))),
      last.length > 1 && s('polyline', {class: 'size', points: last.map((c, i) =>
        `${i * bw + bw / 2},${y(c.state_size, maxS)}`).join(' ')}));
  }

  async function jobView(id) {
    const [job, ck, ex] = await Promise.all([api('/jobs/' + id), api(`/jobs/${id}/checkpoints`),
                                             api(`/jobs/${id}/exceptions`)]);
    const rate = rates(job), levels = await backpressure(job);
    const ended = ['FINISHED', 'CANCELED', 'FAILED'].includes(job.state);
    const history = ck.history || [];
    return h('section', null,
      h('h1', null, job.name, ' ', badge(job.state), h('small', null, ' ' + job.jid)),
      actions(job.jid, ended),
      facts([['started', when(job['start-time'])], ['duration', dur(job.duration)],
             ['attempt', job.attempt], ['restarts', job.restarts],
             ['latest checkpoint', job['latest-checkpoint']],
             ['last recovery', dur(job['recovery-ms'])],
             ['rates', rate.every((r) => r.live) ? 'live' : 'since the start']]),
      h('h2', null, 'Execution graph'), h('div', {class: 'scroll'}, graph(job, rate, levels)),
      h('h2', null, 'Subtasks'),
      table(['vertex', 'subtask', 'host', 'status', 'records in', 'records out',
             'waited (ms/s)', 'watermark'], job.vertices.map((v) => v.subtasks.map((t) => h('tr', null,
        h('td', null, v.name), h('td', null, t.subtask), h('td', null, t.host),
        h('td', null, badge(t.status)), h('td', null, num(t.metrics['read-records'])),
        h('td', null, num(t.metrics['write-records'])),
        h('td', null, num(t.metrics.backPressuredTimeMsPerSecond)),
        h('td', null, when(t.metrics.watermark)))))),
      h('h2', null, 'Checkpoints'),
      facts(Object.entries(ck.counts || {}).map(([k, v]) => [k.replace(/_/g, ' '), v])),
      history.length ? ckptChart(history) : h('p', null, 'no checkpoint yet'),
      table(['id', 'type', 'status', 'triggered', 'duration', 'size', 'failure'],
        history.slice(-10).reverse().map((c) => h('tr', null, h('td', null, c.id),
          h('td', null, c.checkpoint_type), h('td', null, badge(c.status)),
          h('td', null, when(c.trigger_timestamp)), h('td', null, dur(c.end_to_end_duration)),
          h('td', null, bytes(c.state_size)), h('td', null, c.failure_message)))),
      h('h2', null, 'Exceptions and restarts'),
      ex['root-exception'] || job.error
        ? h('pre', {class: 'exception'}, ex['root-exception'] || job.error,
            ex.timestamp > 0 ? '\n(' + when(ex.timestamp) + ')' : '')
        : h('p', null, `no exception; ${job.restarts} restarts`));
  }

  /* Cancel, savepoint, stop: the answer in the notice line, a refusal in the errors. What the
   * folder field holds is kept across refreshes (per job), each drawing a field of its own: one
   * element moved into the next drawing would leave the page without it while that drawing waits
   * for its answers, or for good when a newer refresh supersedes it. */
  function actions(id, ended) {
    if (!state.dir || state.dir.id !== id) state.dir = {id, value: ''};
    const dir = h('input', {placeholder: 'savepoint folder (optional)', value: state.dir.value,
                            oninput: (e) => { state.dir.value = e.target.value; }});
    /* (Flink names the folder target-directory for a savepoint, targetDirectory for a stop) */
    const target = (key) => () => (state.dir.value ? {[key]: state.dir.value} : {});
    const run = (label, path, method, body) => async () => {
      if ((label !== 'savepoint') && !window.confirm(`${label} job ${id}?`)) return;
      try {
        const r = await api(path, method, body && body());
        const where = r && r.operation && r.operation.location;
        notice(`${label} ${id}: ` + (r && r.status ? r.status.id : 'accepted') +
               (where ? ' at ' + where : ''));
        tick();
      } catch (e) {
        showError(e.message);
      }
    };
    return h('div', {class: 'actions'},
      h('button', {disabled: ended, onclick: run('cancel', `/jobs/${id}?mode=cancel`, 'PATCH')},
        'Cancel'),
      h('button', {disabled: ended, onclick: run('savepoint', `/jobs/${id}/savepoints`, 'POST',
        target('target-directory'))}, 'Savepoint'),
      h('button', {disabled: ended, onclick: run('stop', `/jobs/${id}/stop`, 'POST',
        () => Object.assign({drain: false}, target('targetDirectory')()))}, 'Stop'),
      dir);
  }

  /* ---- actors ---- */

  const ACTOR_COLUMNS = [['addr', 'actor'], ['status', 'node'], ['depth', 'depth'],
    ['capacity', 'capacity'], ['rate', 'msg/s'], ['oldest_age_ms', 'oldest'],
    ['high_water', 'high water'], ['enqueued', 'enqueued'], ['rejected', 'rejected'],
    ['restarts', 'restarts']];

  function actorTable() {
    const {key, desc} = state.sort;
    const rows = state.actors.slice().sort((a, b) => {
      const c = typeof a[key] === 'string' ? a[key].localeCompare(b[key]) : a[key] - b[key];
      return desc ? -c : c;
    });
    const cell = (a, k) => (k === 'addr' ? h('a', {href: '#/actors/' + a.addr}, a.addr)
      : k === 'status' ? badge(a.status) : k === 'oldest_age_ms' ? dur(a[k])
      : k === 'depth' ? h('span', null, num(a.depth), h('meter', {value: a.depth,
        max: a.capacity || 1, high: (a.capacity || 1) * 0.8}))
      : num(a[k]));
    return h('table', {class: 'sortable'}, h('thead', null, h('tr', null,
      ACTOR_COLUMNS.map(([k, label]) => h('th', {class: k === key ? (desc ? 'desc' : 'asc') : null,
        'data-key': k, onclick: () => {
          state.sort = {key: k, desc: k === key ? !desc : k !== 'addr' && k !== 'status'};
          $('weir-view').replaceChildren(actorsPage());
        }}, label)))),
      h('tbody', null, rows.map((a) => h('tr', {'data-addr': a.addr},
        ACTOR_COLUMNS.map(([k]) => h('td', null, cell(a, k)))))));
  }
  const actorsPage = () => h('section', null, h('h1', null, 'Actors'),
    h('p', null, 'Every actor of every node, as `weir actors`. Click a header to sort, an actor ' +
      'to open its mailbox.'), actorTable());

  async function actors() {
    const nodes = (await api('/actors')).nodes;
    state.actors = nodes.flatMap((n) => n.actors.map((a) => Object.assign({status: n.status}, a)));
    return actorsPage();
  }

  /* One histogram bar per bucket of processing times. */
  function histogram(buckets) {
    const W = 50, H = 120, max = Math.max(1, ...buckets.map(([, c]) => c));
    return s('svg', {class: 'chart', width: buckets.length * W + 10, height: H + 40},
      buckets.map(([upper, count], i) => {
        const bh = (H - 20) * count / max;
        return s('g', null, s('rect', {class: 'bar', x: i * W + 4, y: H - bh, width: W - 8,
                                       height: bh}),
          s('text', {x: i * W + W / 2, y: H - bh - 4, 'text-anchor': 'middle'}, num(count)),
          s('text', {x: i * W + W / 2, y: H + 14, 'text-anchor': 'middle'},
            upper >= 1000 ? num(upper / 1000) + 'ms' : upper + 'µs'));
      }),
      s('text', {x: 4, y: H + 34}, 'processing time, up to'));
  }

  async function mailbox(addr) {
    const m = await api(`/actors/${addr}/mailbox?peek=8`);
    const counters = ['capacity', 'depth', 'high_water', 'enqueued', 'dequeued', 'rejected',
                      'restarts', 'rate', 'oldest_age_ms', 'processing_ms'];
    const types = Object.entries(m.types || {}).sort((a, b) => b[1] - a[1]);
    return h('section', {class: 'mailbox', 'data-mailbox': m.addr},
      h('h1', null, h('a', {href: '#/actors'}, 'Actors'), ' / ', m.addr),
      h('dl', {class: 'facts', id: 'mailbox-counters'}, counters.map((k) =>
        h('div', {'data-counter': k, 'data-value': m[k]}, h('dt', null, k.replace(/_ms$/, '').replace(/_/g, ' ')),
          h('dd', null, k.endsWith('_ms') ? dur(m[k]) : num(m[k]))))),
      h('h2', null, 'Processing times'), histogram(m.processing_us || []),
      h('h2', null, 'Recent messages'),
      table(['type', 'from', 'size', 'age', 'waited', 'payload'], (m.recent || []).map((r) =>
        h('tr', null, h('td', null, r.type), h('td', null, r.from), h('td', null, bytes(r.size)),
          h('td', null, dur(r.age_ms)), h('td', null, dur(r.waited_ms)),
          h('td', null, h('code', null, r.payload_not_sampled ? '(not sampled)'
            : JSON.stringify(r.payload !== undefined ? r.payload : r.payload_truncated)
              .slice(0, 300)))))),
      h('h2', null, 'Messages by type'),
      table(['type', 'count'], types.map(([t, c]) => h('tr', null, h('td', null, t),
                                                      h('td', null, num(c))))));
  }

  /* ---- routing and refreshing ---- */

  function route() {
    const parts = location.hash.replace(/^#\/?/, '').split('/');
    const arg = parts.slice(1).map(decodeURIComponent).join('/');
    if (parts[0] === 'jobs' && arg) return [jobView, arg, 'overview'];
    if (parts[0] === 'actors') return arg ? [mailbox, arg, 'actors'] : [actors, '', 'actors'];
    if (parts[0] === 'taskmanagers') return [taskmanagers, '', 'taskmanagers'];
    return [overview, '', 'overview'];
  }

  /* Draws the current view, then again after refresh-interval; a newer tick (a new route, an
   * action) supersedes one still waiting for its answers. */
  async function tick() {
    clearTimeout(state.timer);
    const seq = ++state.seq, [view, arg, tab] = route();
    try {
      const node = await view(arg);
      if (seq !== state.seq) return;
      const typing = document.activeElement && document.activeElement.tagName === 'INPUT'
        && $('weir-view').contains(document.activeElement);
      if (!typing) $('weir-view').replaceChildren(node); /* (not while a field is being filled) */
      for (const a of document.querySelectorAll('nav a'))
        a.classList.toggle('active', a.getAttribute('href') === '#/' + tab);
      $('weir-updated').textContent = 'updated ' + new Date().toLocaleTimeString('sv-SE');
      document.body.dataset.ready = ++state.renders;
    } catch (e) {
      if (seq === state.seq) showError(e.message);
    }
    if (seq === state.seq) state.timer = setTimeout(tick, state.refresh);
  }

  window.addEventListener('hashchange', () => {
    state.renders = 0;
    delete document.body.dataset.ready;
    notice('');
    tick();
  });
  api('/config').then((c) => { state.refresh = c['refresh-interval'] || state.refresh; })
    .catch((e) => showError(e.message)).finally(tick);
})();
