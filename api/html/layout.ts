/**
 * The page shell every HTML page shares, and the few static assets it links (served same-origin so
 * the Content-Security-Policy allows no inline style or script at all).
 */
import { createHash } from 'node:crypto';
import { html, type Html } from './escape.js';

export interface PageOptions {
  lang: string;
  title: string;
  body: Html;
  /** Extra elements for <head> (e.g. an Atom alternate link). */
  head?: Html;
  /** Same-origin scripts: progressive enhancement only, every page works without them. */
  scripts?: readonly string[];
  bodyClass?: string;
}

export function page(o: PageOptions): string {
  return `<!doctype html>\n${
    html`<html lang="${o.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${o.title}</title>
<link rel="stylesheet" href="${assets.css.path}">
${o.head}
${(o.scripts ?? []).map((s) => html`<script src="${s}" defer></script>`)}
</head>
<body${o.bodyClass ? html` class="${o.bodyClass}"` : ''}>
${o.body}
</body>
</html>
`.value
  }`;
}

const css = `
:root { --fg: #1b1f24; --muted: #57606a; --line: #d0d7de; --bg: #fff; --ok: #1a7f37; --warn: #9a6700;
  --bad: #cf222e; --accent: #0969da; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 60rem; padding: 1.5rem; color: var(--fg); background: var(--bg); line-height: 1.45; }
header.top { display: flex; justify-content: space-between; align-items: baseline; flex-wrap: wrap; gap: .5rem; }
h1 { font-size: 1.6rem; margin: 0 0 .5rem; } h2 { font-size: 1.2rem; margin: 2rem 0 .5rem; }
a { color: var(--accent); }
.muted, small { color: var(--muted); }
.banner { padding: .8rem 1rem; border-radius: .4rem; margin: 1rem 0; font-weight: 600; }
.banner.ok { background: #dafbe1; color: var(--ok); } .banner.bad { background: #ffebe9; color: var(--bad); }
.banner.info { background: #ddf4ff; color: #0a3069; } .banner.warn { background: #fff8c5; color: var(--warn); }
ul.components { list-style: none; padding: 0; border: 1px solid var(--line); border-radius: .4rem; }
ul.components li { display: flex; justify-content: space-between; padding: .6rem 1rem; border-top: 1px solid var(--line); }
ul.components li:first-child { border-top: 0; }
.badge { display: inline-block; padding: .05rem .5rem; border-radius: 1rem; font-size: .85rem; font-weight: 600; border: 1px solid currentColor; }
.st-operational { color: var(--ok); } .st-degraded { color: var(--warn); } .st-major_outage { color: var(--bad); }
.st-triggered, .st-verifying { color: var(--bad); } .st-acknowledged, .st-resolving { color: var(--warn); }
.st-resolved, .st-dismissed { color: var(--ok); }
article.incident { border: 1px solid var(--line); border-radius: .4rem; padding: .8rem 1rem; margin: .8rem 0; }
article.incident h3 { margin: 0 0 .4rem; font-size: 1.05rem; }
ol.messages { list-style: none; padding: 0; margin: 0; }
ol.messages li { border-left: 3px solid var(--line); padding: .2rem .8rem; margin: .5rem 0; }
.message { white-space: pre-wrap; overflow-wrap: anywhere; margin: .2rem 0; }
table { border-collapse: collapse; width: 100%; font-size: .92rem; }
th, td { text-align: left; vertical-align: top; padding: .35rem .5rem; border-bottom: 1px solid var(--line); }
td.detail { white-space: pre-wrap; overflow-wrap: anywhere; }
form.inline { display: inline; }
form.card { border: 1px solid var(--line); border-radius: .4rem; padding: .8rem 1rem; margin: .8rem 0; }
label { display: block; font-weight: 600; margin: .4rem 0 .2rem; }
input[type=text], input[type=password], textarea, select { width: 100%; padding: .4rem; font: inherit; border: 1px solid var(--line); border-radius: .3rem; }
textarea { min-height: 5rem; }
button { font: inherit; padding: .4rem 1rem; border-radius: .3rem; border: 1px solid var(--line); background: #f6f8fa; cursor: pointer; margin-top: .5rem; }
button.primary { background: var(--accent); color: #fff; border-color: var(--accent); }
button.danger { background: var(--bad); color: #fff; border-color: var(--bad); }
.actions { display: grid; grid-template-columns: repeat(auto-fit, minmax(16rem, 1fr)); gap: .8rem; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; }
dl.facts dt { font-weight: 600; } dl.facts dd { margin: 0; }
footer { margin-top: 3rem; color: var(--muted); font-size: .9rem; }
nav.lang a[aria-current] { font-weight: 700; text-decoration: none; color: var(--fg); }
.hp { position: absolute; left: -10000px; top: auto; width: 1px; height: 1px; overflow: hidden; }
nav.console { flex-basis: 100%; display: flex; flex-wrap: wrap; gap: .3rem 1rem; }
nav.tabs { display: flex; flex-wrap: wrap; gap: .3rem 1rem; margin: .5rem 0; }
form.filters { display: grid; grid-template-columns: repeat(auto-fit, minmax(11rem, 1fr)); gap: .2rem 1rem; align-items: end; }
form.filters .buttons { display: flex; gap: 1rem; align-items: baseline; }
input[type=date], input[type=search] { width: 100%; max-width: 100%; padding: .4rem; font: inherit; border: 1px solid var(--line); border-radius: .3rem; }
.detail { overflow-wrap: anywhere; } span.bad { color: var(--bad); font-weight: 600; }
.mon-healthy, .pm-completed { color: var(--ok); } .mon-suspect, .mon-recovering, .pm-due { color: var(--warn); }
.mon-failing, .mon-not, .pm-overdue { color: var(--bad); }
td, th { overflow-wrap: anywhere; }
dl.facts dd { min-width: 0; overflow-wrap: anywhere; } pre { white-space: pre-wrap; overflow-wrap: anywhere; }
@media (max-width: 40rem) {
  body { padding: 1rem .75rem; }
  table.stack, table.stack tbody, table.stack tr, table.stack td { display: block; width: 100%; }
  table.stack thead { display: none; }
  table.stack tr { border: 1px solid var(--line); border-radius: .4rem; margin: .6rem 0; padding: .3rem .6rem; }
  table.stack td { border: 0; padding: .2rem 0; }
  table.stack td[data-label]::before { content: attr(data-label); display: block; font-size: .8rem; color: var(--muted); font-weight: 600; }
}
`;

// Ticks the "next escalation in …" countdown; without it the page shows the time it was rendered.
const consoleJs = `'use strict';
(function () {
  var els = document.querySelectorAll('[data-countdown]');
  if (!els.length) return;
  function fmt(ms) {
    var s = Math.max(0, Math.round(ms / 1000)), h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    return h > 0 ? h + ' h ' + m + ' min' : m > 0 ? m + ' min ' + r + ' s' : r + ' s';
  }
  var nb = document.documentElement.lang === 'nb';
  function tick() {
    els.forEach(function (el) {
      var left = Date.parse(el.getAttribute('data-countdown')) - Date.now();
      el.textContent = left > 0
        ? (nb ? 'om ' : 'in ') + fmt(left)
        : nb ? 'nå (last siden på nytt for det siste)' : 'due now (reload for the latest)';
    });
  }
  tick();
  setInterval(tick, 1000);
})();
`;

function asset(path: string, type: string, body: string) {
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"`;
  return { path, type, body, etag };
}

export const assets = {
  css: asset('/assets/site.css', 'text/css; charset=utf-8', css),
  consoleJs: asset('/assets/console.js', 'text/javascript; charset=utf-8', consoleJs),
} as const;
