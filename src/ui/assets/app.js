// glyphlab ui: the page. Plain browser JavaScript, no build step: it asks the server (src/ui/server.ts)
// for the table and for plotly figures built there, draws them, and refreshes what changed when the
// server says so (server-sent events). Every text from the store goes in as text, never as HTML.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);

  /** The page's state; kept in the address's #fragment so a view can be bookmarked or reloaded. */
  const state = { where: '', sort: '', columns: [], sel: [], per: '', keys: [], x: 'step', smooth: 0.6, y: 'auto', pp: '', pm: '', run: '' };
  let config = { palette: [] };
  /** The last table the server sent. */
  let table = null;

  // ---- the address ------------------------------------------------------------------------

  const LIST_FIELDS = ['columns', 'sel', 'keys'];

  function readHash() {
    const params = new URLSearchParams(location.hash.slice(1));
    for (const key of Object.keys(state)) {
      if (!params.has(key)) continue;
      const value = params.get(key);
      if (LIST_FIELDS.includes(key)) state[key] = value.split(',').filter((item) => item !== '');
      else if (key === 'smooth') state.smooth = Math.min(0.99, Math.max(0, Number(value) || 0));
      else state[key] = value;
    }
    if (!params.has('run')) state.run = '';
  }

  function hashOf(overrides) {
    const params = new URLSearchParams();
    const values = { ...state, ...overrides };
    for (const [key, value] of Object.entries(values)) {
      const text = Array.isArray(value) ? value.join(',') : String(value);
      if (text !== '' && !(key === 'smooth' && value === 0.6) && !(key === 'x' && value === 'step') && !(key === 'y' && value === 'auto')) params.set(key, text);
    }
    return `#${params.toString()}`;
  }

  function saveHash() {
    history.replaceState(null, '', hashOf({}));
  }

  // ---- requests -----------------------------------------------------------------------------

  async function getJson(path, params = {}) {
    const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== '')).toString();
    const response = await fetch(query ? `${path}?${query}` : path, { cache: 'no-store', credentials: 'same-origin' });
    let body;
    try {
      body = await response.json();
    } catch {
      body = { error: `${response.status} ${response.statusText}` };
    }
    if (!response.ok) {
      const error = new Error(body.error || `${response.status} ${response.statusText}`);
      error.status = response.status;
      throw error;
    }
    return body;
  }

  /** `fn` made to run one call at a time: calls that arrive meanwhile become one more run after it. */
  function serial(fn) {
    let running = null;
    let again = false;
    const run = async () => {
      if (running) {
        again = true;
        return running;
      }
      running = (async () => {
        try {
          do {
            again = false;
            await fn();
          } while (again);
        } finally {
          running = null;
        }
      })();
      return running;
    };
    return run;
  }

  function showPageError(error) {
    const box = $('page-error');
    box.hidden = false;
    box.textContent = String(error && error.message ? error.message : error);
  }

  // ---- formatting ---------------------------------------------------------------------------

  function isShare(column) {
    return /(accuracy|_cer|^metrics\.cer)(\.best)?$/.test(column);
  }

  function formatDuration(seconds) {
    if (!(seconds >= 0)) return '';
    if (seconds < 60) return `${seconds.toFixed(0)} s`;
    const minutes = Math.floor(seconds / 60);
    if (minutes < 60) return `${minutes} min ${Math.round(seconds % 60)} s`;
    return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
  }

  function formatTime(iso) {
    const date = new Date(iso);
    if (Number.isNaN(date.getTime())) return String(iso);
    const pad = (n) => String(n).padStart(2, '0');
    return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}`;
  }

  function formatNumber(value) {
    if (Number.isInteger(value)) return Math.abs(value) >= 1e6 ? value.toExponential(3) : String(value);
    const magnitude = Math.abs(value);
    return magnitude >= 1e-3 && magnitude < 1e6 ? String(Number(value.toPrecision(4))) : value.toExponential(2);
  }

  /** A cell's text and whether it is a number (aligned right). */
  function formatCell(value, column) {
    if (value === null || value === undefined) return { text: '', numeric: false };
    if (typeof value === 'string' && /^-?Infinity$|^NaN$/.test(value)) return { text: value, numeric: true };
    if (typeof value === 'number') {
      if (column === 'duration') return { text: formatDuration(value), numeric: true };
      if (isShare(column) && value >= 0 && value <= 1) return { text: `${(value * 100).toFixed(2)}%`, numeric: true };
      return { text: formatNumber(value), numeric: true };
    }
    if (typeof value === 'boolean') return { text: String(value), numeric: false };
    if (/_at$/.test(column)) return { text: formatTime(value), numeric: false };
    return { text: String(value), numeric: false };
  }

  function columnTitle(column) {
    return column.replace(/^metrics\./, '').replace(/^params\./, '');
  }

  function colorOf(runId) {
    const at = state.sel.indexOf(runId);
    return at < 0 || config.palette.length === 0 ? '' : config.palette[at % config.palette.length];
  }

  function element(tag, props = {}, children = []) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props)) {
      if (key === 'text') node.textContent = value;
      else if (key === 'dataset') Object.assign(node.dataset, value);
      else if (key in node) node[key] = value;
      else node.setAttribute(key, value);
    }
    for (const child of children) node.append(child);
    return node;
  }

  function bump(node, name) {
    node.dataset[name] = String(Number(node.dataset[name] || 0) + 1);
  }

  // ---- the table ----------------------------------------------------------------------------

  function sortedDirection(column) {
    const first = state.sort.split(',')[0] || '';
    const name = first.replace(/:(asc|desc)$/i, '').replace(/^[-+]/, '');
    if (name !== column && `metrics.${name}` !== column) return '';
    return first.startsWith('-') || /:desc$/i.test(first) ? 'desc' : 'asc';
  }

  function toggleSort(column) {
    const now = sortedDirection(column);
    // Metrics first sort best-looking-high (descending); a second click reverses.
    const first = now === '' ? (column.startsWith('metrics.') ? 'desc' : 'asc') : now === 'asc' ? 'desc' : 'asc';
    state.sort = first === 'desc' ? `-${column}` : column;
    $('sort').value = state.sort;
    saveHash();
    loadTable();
  }

  function renderTable(result) {
    const thead = $('runs').tHead;
    const tbody = $('runs').tBodies[0];
    const header = element('tr', {}, [element('th', { className: 'unsortable', text: '' }), element('th', { className: 'unsortable', text: 'run' })]);
    for (const column of result.columns) {
      const th = element('th', { text: columnTitle(column), title: column, dataset: { column } });
      if (column === 'tags') th.className = 'unsortable';
      else {
        const direction = sortedDirection(column);
        if (direction) th.dataset.sorted = direction;
        th.addEventListener('click', () => toggleSort(column));
      }
      header.append(th);
    }
    thead.replaceChildren(header);
    const rows = result.rows.map((row) => {
      const selected = state.sel.includes(row.id);
      const box = element('input', { type: 'checkbox', checked: selected, title: 'overlay its curves' });
      box.addEventListener('change', () => toggleSelected(row.id, box.checked));
      const link = element('a', { href: hashOf({ run: row.id }), text: row.label });
      const swatch = element('span', { className: 'swatch' });
      if (selected) swatch.style.background = colorOf(row.id);
      const cells = result.columns.map((column, i) => {
        const { text, numeric } = formatCell(row.cells[i], column);
        return element('td', { text, className: [numeric ? 'num' : '', column === 'status' ? 'status' : ''].join(' ').trim() });
      });
      return element('tr', { className: selected ? 'selected' : '', dataset: { id: row.id, status: row.status } }, [element('td', {}, [box]), element('td', {}, [link, selected ? swatch : '']), ...cells]);
    });
    tbody.replaceChildren(...rows);
    const notes = [`${result.rows.length} run${result.rows.length === 1 ? '' : 's'}${result.truncated ? ' (the first ones; narrow the filter to see the rest)' : ''}`];
    $('table-note').textContent = notes.join(' ');
    for (const warning of result.warnings) $('table-note').append(element('span', { className: 'warning', text: ` · ${warning}` }));
    bump($('runs'), 'loads');
  }

  function renderColumnChoices(result) {
    const shown = new Set(result.columns);
    const box = $('column-choices');
    const choice = (column) => {
      const input = element('input', { type: 'checkbox', checked: shown.has(column) });
      input.addEventListener('change', () => {
        const current = table ? table.columns.slice() : [];
        state.columns = input.checked ? [...current, column] : current.filter((c) => c !== column);
        $('columns').value = state.columns.join(',');
        saveHash();
        loadTable();
      });
      return element('label', {}, [input, ` ${column}`]);
    };
    // The run fields and aliases are the tracker's column language, the same as runs ls --columns.
    box.replaceChildren(
      element('span', { className: 'group', text: 'run' }),
      ...result.runFields.map(choice),
      element('span', { className: 'group', text: 'metrics (last value; .best for the best)' }),
      ...result.metricKeys.flatMap((key) => [choice(`metrics.${key}`), choice(`metrics.${key}.best`)]),
      element('span', { className: 'group', text: 'params' }),
      ...result.paramKeys.map((key) => choice(`params.${key}`)),
    );
    $('columns').title = `run fields, metrics.KEY[.best], params.KEY, a recorded key, or an alias: ${Object.entries(result.aliases).map(([short, target]) => `${short} (${target})`).join(', ')}`;
    if (document.activeElement !== $('columns')) $('columns').value = (state.columns.length ? state.columns : result.columns).join(',');
  }

  /** Whether the last table request was answered; a bad filter, sort or column leaves the last good table. */
  let tableOk = false;

  const loadTable = serial(async () => {
    let result;
    try {
      result = await getJson('/api/runs', { where: state.where, sort: state.sort, columns: state.columns.join(',') });
    } catch (error) {
      tableOk = false;
      const box = $('query-error');
      box.hidden = false;
      box.textContent = error.message;
      bump($('runs'), 'errors');
      return;
    }
    tableOk = true;
    $('query-error').hidden = true;
    table = result;
    renderTable(result);
    renderColumnChoices(result);
    renderKeyChoices();
    renderParamChoices();
  });

  function toggleSelected(runId, selected) {
    state.sel = selected ? [...state.sel.filter((id) => id !== runId), runId] : state.sel.filter((id) => id !== runId);
    saveHash();
    if (table) renderTable(table);
    loadCurves();
    loadParams();
  }

  // ---- curves -------------------------------------------------------------------------------

  const isStepKey = (key) => key.startsWith('batch_');

  function curveKeysOf(per) {
    const keys = table ? table.metricKeys : [];
    return keys.filter((key) => (per === 'step' ? isStepKey(key) : !isStepKey(key) && !key.startsWith('test_')));
  }

  function defaultKeys(per) {
    const keys = curveKeysOf(per);
    const preferred = per === 'step' ? ['batch_loss'] : ['loss', 'val_loss'];
    const chosen = preferred.filter((key) => keys.includes(key));
    return chosen.length ? chosen : keys.slice(0, 1);
  }

  function renderKeyChoices() {
    if (!table) return;
    if (state.per === '') state.per = curveKeysOf('step').length ? 'step' : 'epoch';
    $('curve-per').value = state.per;
    const available = curveKeysOf(state.per);
    const chosen = state.keys.filter((key) => available.includes(key));
    if (chosen.length === 0) state.keys = defaultKeys(state.per);
    $('curve-keys').replaceChildren(
      ...available.map((key) => {
        const input = element('input', { type: 'checkbox', checked: state.keys.includes(key), dataset: { key } });
        input.addEventListener('change', () => {
          state.keys = input.checked ? [...state.keys, key] : state.keys.filter((k) => k !== key);
          saveHash();
          loadCurves();
        });
        return element('label', {}, [input, ` ${key}`]);
      }),
    );
  }

  async function draw(node, figure, revision) {
    const layout = { ...figure.layout, autosize: true, uirevision: revision };
    await Plotly.react(node, figure.data, layout, { responsive: true, displaylogo: false });
    bump(node, 'draws');
  }

  const loadCurves = serial(async () => {
    const chart = $('curves-chart');
    const note = $('curves-note');
    if (state.sel.length === 0) {
      Plotly.purge(chart);
      note.textContent = 'Tick runs in the table to overlay their curves.';
      return;
    }
    if (state.keys.length === 0) {
      note.textContent = `The selected runs recorded no per-${state.per} metric.`;
      return;
    }
    try {
      const figure = await getJson('/api/curves', { ids: state.sel.join(','), keys: state.keys.join(','), x: state.x, smoothing: state.smooth, y: state.y });
      note.textContent = '';
      await draw(chart, figure, `${state.x}|${state.y}|${state.keys.join(',')}`);
    } catch (error) {
      note.textContent = error.message;
    }
  });

  // ---- a param against a metric ----------------------------------------------------------------

  function fillSelect(select, values, chosen) {
    const current = chosen && values.includes(chosen) ? chosen : values[0] || '';
    select.replaceChildren(...values.map((value) => element('option', { value, text: value, selected: value === current })));
    return current;
  }

  function renderParamChoices() {
    if (!table) return;
    const metrics = table.metricKeys.filter((key) => !isStepKey(key));
    const preferredMetric = ['test_accuracy', 'val_accuracy'].find((key) => metrics.includes(key));
    // The params the runs differ in first: a sweep's knobs.
    const params = [...table.differingParams, ...table.paramKeys.filter((key) => !table.differingParams.includes(key))];
    state.pp = fillSelect($('pp-param'), params, state.pp);
    state.pm = fillSelect($('pp-metric'), metrics, state.pm || preferredMetric);
  }

  const loadParams = serial(async () => {
    const note = $('params-note');
    // Without a selection the chart follows the table's filter: not one the server refused.
    if (!tableOk && state.sel.length === 0) return;
    if (!state.pp || !state.pm) {
      note.textContent = 'No run listed has both a param and a metric.';
      return;
    }
    try {
      const figure = await getJson('/api/params', { ids: state.sel.join(','), where: state.sel.length ? '' : state.where, param: state.pp, metric: state.pm });
      note.textContent = '';
      await draw($('params-chart'), figure, `${state.pp}|${state.pm}`);
    } catch (error) {
      note.textContent = error.message;
    }
  });

  // ---- one run's page -------------------------------------------------------------------------

  function keyValueRows(tbody, entries) {
    tbody.replaceChildren(...entries.map(([key, value]) => element('tr', {}, [element('td', { text: key }), element('td', { text: value })])));
  }

  function describeSummary(key, summary) {
    const value = (v) => formatCell(v, `metrics.${key}`).text;
    const best = summary.best === summary.last ? '' : `, best ${value(summary.best)}`;
    return `${value(summary.last)}${best} (${summary.count} point${summary.count === 1 ? '' : 's'})`;
  }

  function renderRun(page) {
    const run = page.run;
    $('run-title').textContent = `${page.label} (${run.status})`;
    $('misreads-run').textContent = page.label;
    const facts = [
      ['id', run.id],
      ['experiment', run.experiment],
      ['status', run.status],
      ['started', formatTime(run.startedAt)],
      ['ended', run.endedAt ? formatTime(run.endedAt) : ''],
      ['duration', formatDuration(run.durationS)],
      ['backend', run.backend || ''],
      ['host', run.host || ''],
      ['git commit', run.gitCommit ? `${run.gitCommit}${run.gitDirty ? ' (dirty)' : ''}` : ''],
      ['tags', run.tags.join(' ')],
      ['note', run.note || ''],
      ['files', page.artifacts.map((a) => `${a.name} (${a.kind})`).join(', ')],
    ].filter(([, value]) => value !== '');
    $('run-facts').replaceChildren(...facts.flatMap(([key, value]) => [element('dt', { text: key }), element('dd', { text: value })]));
    const stop = $('stop-reason');
    stop.hidden = !page.stopReason;
    stop.textContent = page.stopReason ? `Stopped: ${page.stopReason}` : '';
    keyValueRows($('run-metrics'), Object.keys(run.metrics).sort().map((key) => [key, describeSummary(key, run.metrics[key])]));
    keyValueRows(
      $('run-params'),
      Object.keys(run.params)
        .sort()
        .map((key) => {
          const value = run.params[key];
          return [key, value !== null && typeof value === 'object' ? JSON.stringify(value) : String(value)];
        }),
    );
    renderMisreads(run.id, page);
  }

  function renderMisreads(runId, page) {
    const note = $('misreads-note');
    const box = $('misreads');
    if (page.problem) {
      note.textContent = page.problem;
      box.replaceChildren();
      return;
    }
    const of = page.samples !== null ? ` of ${page.samples} test images` : '';
    note.textContent = page.misreads.length === 0 ? `No misread images listed${of}.` : `${page.misreads.length} misread${of} (truth above, what the model read below).`;
    const cards = page.misreads.map((misread) => {
      const image = element('img', { src: `/api/runs/${encodeURIComponent(runId)}/misreads/${misread.index}`, alt: `misread ${misread.index}: ${misread.truth}`, loading: 'lazy' });
      image.addEventListener('error', () => image.replaceWith(element('span', { className: 'note', text: 'image could not be read' })));
      const [truth, read] = markedAlignment(misread.alignment);
      return element('figure', { className: 'misread', dataset: { index: String(misread.index) } }, [
        image,
        element('div', { className: 'reading truth' }, [element('span', { className: 'label', text: 'truth' }), ...truth]),
        element('div', { className: 'reading read' }, [element('span', { className: 'label', text: 'read' }), ...read]),
      ]);
    });
    box.replaceChildren(...cards);
  }

  /**
   * The truth and the reading as text nodes, aligned by the server (editAlignment): what differs is
   * marked in both, a dropped or added character as a marked ∅ where the other has one.
   */
  function markedAlignment(alignment) {
    const truth = [];
    const read = [];
    for (const step of alignment) {
      if (step.op === 'match') {
        truth.push(step.truth);
        read.push(step.predicted);
      } else {
        truth.push(element('mark', { text: step.truth || '∅' }));
        read.push(element('mark', { text: step.predicted || '∅' }));
      }
    }
    return [truth, read];
  }

  const loadRun = serial(async () => {
    const runId = state.run;
    if (!runId) return;
    try {
      const page = await getJson(`/api/runs/${encodeURIComponent(runId)}`);
      if (state.run !== runId) return;
      renderRun(page);
      const keys = Object.keys(page.run.metrics);
      const wanted = ['batch_loss', 'loss', 'val_loss'].filter((key) => keys.includes(key));
      if (wanted.length > 0) {
        const figure = await getJson('/api/curves', { ids: runId, keys: wanted.join(','), x: 'epoch', smoothing: state.smooth });
        await draw($('run-curves'), figure, `run|${runId}`);
      }
      bump($('run-view'), 'loads');
    } catch (error) {
      $('run-title').textContent = error.message;
    }
  });

  // ---- views and live updates ------------------------------------------------------------------

  function showView() {
    readHash();
    fillControls();
    const onRun = state.run !== '';
    $('runs-view').hidden = onRun;
    $('run-view').hidden = !onRun;
    if (onRun) loadRun();
    else {
      loadTable().then(() => {
        loadCurves();
        loadParams();
      });
    }
  }

  function onChange(change) {
    if (state.run) {
      if (change.runs.includes(state.run) || change.points.includes(state.run)) loadRun();
      return;
    }
    loadTable().then(() => {
      if (state.sel.some((id) => change.points.includes(id))) loadCurves();
      if (change.runs.length > 0) loadParams();
    });
  }

  function connectLive() {
    const live = $('live');
    const source = new EventSource('/api/events');
    let lost = false;
    source.addEventListener('open', () => {
      live.dataset.state = 'live';
      live.textContent = 'live';
      // After a lost stream, what changed meanwhile was never announced: read everything again.
      if (lost) showView();
      lost = false;
    });
    source.addEventListener('error', () => {
      lost = true;
      live.dataset.state = 'lost';
      live.textContent = 'reconnecting';
    });
    source.addEventListener('change', (event) => onChange(JSON.parse(event.data)));
  }

  function bindControls() {
    $('query').addEventListener('submit', (event) => {
      event.preventDefault();
      state.where = $('where').value.trim();
      state.sort = $('sort').value.trim();
      const columns = $('columns').value.split(',').map((c) => c.trim()).filter((c) => c !== '');
      state.columns = table && columns.join(',') === table.columns.join(',') && state.columns.length === 0 ? [] : columns;
      saveHash();
      loadTable().then(() => loadParams());
    });
    $('columns').addEventListener('keydown', (event) => {
      if (event.key === 'Enter') $('query').requestSubmit();
    });
    $('curve-per').addEventListener('change', () => {
      state.per = $('curve-per').value;
      state.keys = defaultKeys(state.per);
      if (state.per === 'epoch' && state.x === 'step') state.x = 'epoch';
      $('curve-x').value = state.x;
      saveHash();
      renderKeyChoices();
      loadCurves();
    });
    // A control that sets one field of the state and redraws one chart.
    const bind = (id, field, redraw, read = (control) => control.value) =>
      $(id).addEventListener('change', () => {
        state[field] = read($(id));
        saveHash();
        redraw();
      });
    bind('curve-x', 'x', loadCurves);
    bind('curve-y', 'y', loadCurves);
    bind('smoothing', 'smooth', loadCurves, (control) => Number(control.value));
    bind('pp-param', 'pp', loadParams);
    bind('pp-metric', 'pm', loadParams);
    $('smoothing').addEventListener('input', () => {
      $('smoothing-value').textContent = $('smoothing').value;
    });
    $('back').addEventListener('click', (event) => {
      event.preventDefault();
      location.hash = hashOf({ run: '' });
    });
    window.addEventListener('hashchange', showView);
  }

  function fillControls() {
    $('where').value = state.where;
    $('sort').value = state.sort;
    $('columns').value = state.columns.join(',');
    $('curve-x').value = state.x;
    $('curve-y').value = state.y;
    $('smoothing').value = String(state.smooth);
    $('smoothing-value').textContent = String(state.smooth);
  }

  async function start() {
    config = await getJson('/api/config');
    $('store').textContent = config.db;
    $('store').title = config.db;
    // The command line's filter, sort and columns, unless the address says otherwise.
    state.where = config.where;
    state.sort = config.sort;
    state.columns = config.columns;
    bindControls();
    showView();
    connectLive();
  }

  start().catch(showPageError);
})();
