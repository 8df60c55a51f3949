/**
 * The console's static files: its stylesheet, its one script, and
 * diff2html's stylesheet from the package. The script builds DOM nodes with
 * textContent only (never innerHTML), so a queue row from the JSON feed is
 * text whatever it holds.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export const APP_JS = `'use strict';
(function () {
  var table = document.getElementById('queue');
  if (!table) return;
  var body = document.getElementById('queue-body');
  var empty = document.getElementById('queue-empty');
  var live = document.getElementById('live');
  var feed = table.getAttribute('data-feed');
  function cell(row, content) { var td = document.createElement('td'); if (content) td.appendChild(content); row.appendChild(td); return td; }
  function textNode(value) { return document.createTextNode(String(value)); }
  function code(value) { var c = document.createElement('code'); c.textContent = value; return c; }
  function render(rows) {
    var fragment = document.createDocumentFragment();
    rows.forEach(function (r) {
      var tr = document.createElement('tr');
      tr.setAttribute('data-id', r.id);
      var a = document.createElement('a');
      a.className = 'entry-link';
      a.textContent = r.id;
      if (typeof r.url === 'string' && r.url.indexOf('/console/entry/') === 0) a.href = r.url;
      cell(tr, a);
      cell(tr, textNode(r.repository));
      var refs = cell(tr);
      r.refs.forEach(function (ref, i) { if (i) refs.appendChild(document.createElement('br')); refs.appendChild(code(ref)); });
      var pusher = cell(tr, textNode(r.pusher + (r.sponsor ? ' (sponsor ' + r.sponsor + ')' : '')));
      pusher.className = '';
      var ageCell = cell(tr, textNode(r.age));
      ageCell.title = r.createdAt;
      var rules = cell(tr);
      r.rules.forEach(function (x) { var s = document.createElement('span'); s.className = 'rule'; s.textContent = x.rule + (x.count > 1 ? ' \\u00d7' + x.count : ''); rules.appendChild(s); rules.appendChild(textNode(' ')); });
      cell(tr, textNode(r.approvals + '/' + r.required));
      var st = document.createElement('span');
      st.className = 'state';
      st.textContent = r.state;
      cell(tr, st);
      fragment.appendChild(tr);
    });
    while (body.firstChild) body.removeChild(body.firstChild);
    body.appendChild(fragment);
    if (empty) empty.hidden = rows.length !== 0;
  }
  function poll() {
    var query = window.location.search || '';
    fetch(feed + query, { credentials: 'same-origin', headers: { accept: 'application/json' } })
      .then(function (response) {
        if (response.status === 401) { live.textContent = 'logged out: reload to log in'; return null; }
        if (!response.ok) throw new Error('HTTP ' + response.status);
        return response.json();
      })
      .then(function (data) { if (data) { render(data.entries); live.textContent = 'updated ' + new Date().toLocaleTimeString(); } })
      .catch(function () { live.textContent = 'live updates paused; retrying'; });
  }
  setInterval(poll, 3000);
})();
`;

export const CONSOLE_CSS = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 0; color: #1d2430; background: #f6f7f9; }
header { display: flex; justify-content: space-between; align-items: center; padding: .6rem 1.2rem; background: #1d2430; color: #fff; }
header a.brand { color: #fff; font-weight: 600; text-decoration: none; }
header .user { display: flex; gap: .6rem; align-items: center; }
header .muted { color: #b8c0cc; }
header button { color: #1d2430; }
main { padding: 1rem 1.2rem 3rem; max-width: 1200px; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.15rem; margin-top: 1.6rem; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { text-align: left; vertical-align: top; padding: .35rem .5rem; border-bottom: 1px solid #e3e6ea; }
table.queue td, table.findings td { word-break: break-word; }
.muted { color: #6b7480; }
.rule { display: inline-block; background: #eef1f5; border-radius: 3px; padding: 0 .3rem; font-family: ui-monospace, monospace; font-size: 12px; }
.state { display: inline-block; border-radius: 3px; padding: 0 .35rem; background: #eef1f5; }
.state-pending { background: #fff4d6; } .state-applied { background: #dcf5e3; } .state-rejected, .state-stale, .state-expired { background: #fde2e1; }
.flash { padding: .5rem .8rem; border-radius: 4px; } .flash.ok { background: #dcf5e3; } .flash.error { background: #fde2e1; }
.pre { white-space: pre-wrap; }
form.inline { display: inline; }
.filters { display: flex; gap: 1rem; align-items: center; margin-bottom: .8rem; }
.decide { display: flex; flex-wrap: wrap; gap: 1.2rem; background: #fff; padding: .8rem; border: 1px solid #e3e6ea; }
.decide h2 { width: 100%; margin: 0; }
form.decision { display: flex; flex-direction: column; gap: .4rem; min-width: 320px; }
label.attest { display: block; }
button, a.button { font: inherit; padding: .3rem .9rem; border: 1px solid #8892a0; border-radius: 4px; background: #fff; cursor: pointer; color: inherit; text-decoration: none; }
button.danger { border-color: #b3261e; color: #b3261e; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; }
dl.facts dt { font-weight: 600; }
tr.pg-finding td { background: #ffe08a !important; }
tr.pg-finding td.d2h-code-linenumber { border-left: 4px solid #b3261e; }
ol.timeline { background: #fff; padding: .6rem 2rem; border: 1px solid #e3e6ea; }
code { font-family: ui-monospace, monospace; font-size: 12.5px; }
section.login { max-width: 420px; margin: 3rem auto; background: #fff; padding: 1.2rem 1.6rem; border: 1px solid #e3e6ea; }
`;

let diffCss: string | undefined;

/** diff2html's own stylesheet, read once from the installed package, without its @import of a web font (no request leaves for another origin). */
export function diff2htmlCss(): string {
  diffCss ??= readFileSync(require.resolve('diff2html/bundles/css/diff2html.min.css'), 'utf8').replace(/@import[^;]*;/g, '');
  return diffCss;
}
