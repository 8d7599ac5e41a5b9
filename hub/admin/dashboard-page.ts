// The dashboard's page, login form and script (hub/admin/dashboard.ts serves them). Plain HTML and DOM
// calls; every value from the API is set with textContent. The script polls once a second and shows
// each panel's own error instead of stopping.

const STYLE = `
body { font: 14px system-ui, sans-serif; margin: 1.5em; color: #222; background: #fafafa }
h1 { font-size: 1.3em } h2 { font-size: 1.05em; margin-top: 1.4em }
table { border-collapse: collapse; background: #fff } td, th { border: 1px solid #ddd; padding: 3px 8px; text-align: left }
td.n { text-align: right; font-variant-numeric: tabular-nums }
.tiles { display: flex; gap: 1em; flex-wrap: wrap } .tile { background: #fff; border: 1px solid #ddd; padding: .6em 1em; min-width: 9em }
.tile b { display: block; font-size: 1.6em } .muted { color: #888 } .err { color: #b00 }
`

export const LOGIN_HTML = (failed: boolean): string => `<!doctype html>
<html><head><meta charset="utf-8"><title>hub dashboard: log in</title><style>${STYLE}</style></head><body>
<h1>Hub dashboard</h1>
<form method="post" action="/dashboard/login">
<p><label>Token (&lt;data-dir&gt;/read.token or admin.token)<br>
<input id="token" name="token" type="password" size="70" autocomplete="off" required></label></p>
<p><button id="login" type="submit">Log in</button></p>
${failed ? '<p class="err" id="login-error">That token is not one of this hub\'s.</p>' : ''}
</form></body></html>
`

export const DASHBOARD_HTML = `<!doctype html>
<html><head><meta charset="utf-8"><title>hub dashboard</title><style>${STYLE}</style></head><body>
<h1>Hub dashboard <small class="muted" id="updated"></small> <a href="/dashboard/logout">log out</a></h1>
<div class="tiles">
<div class="tile">state<b id="node-state">-</b><span class="muted" id="node-detail"></span></div>
<div class="tile">payments fulfilled<b id="fulfilled-count">-</b></div>
<div class="tile">payments failed<b id="failed-count">-</b></div>
<div class="tile">payments / s<b id="payments-per-second">-</b></div>
<div class="tile">held payments<b id="held-count">-</b></div>
<div class="tile">HTLCs in flight<b id="htlc-count">-</b></div>
<div class="tile">fees earned (sat)<b id="fees">-</b></div>
<div class="tile">node key<b id="node-key">-</b><span class="muted" id="node-key-detail"></span></div>
</div>
<h2>Channels</h2><div id="channels-error" class="err"></div>
<table id="channels"><thead><tr><th>channel</th><th>peer</th><th>status</th><th>phase</th><th>capacity sat</th>
<th>hub sat</th><th>peer sat</th><th>htlcs</th></tr></thead><tbody></tbody></table>
<h2>Failures by reason</h2>
<table id="failures"><thead><tr><th>reason</th><th>count</th></tr></thead><tbody></tbody></table>
<h2>Latest payments</h2>
<table id="payments"><thead><tr><th>at</th><th>status</th><th>amount sat</th><th>reason</th></tr></thead><tbody></tbody></table>
<h2>Settlement</h2><pre id="settlement" class="muted">-</pre>
<table id="batches"><thead><tr><th>txid</th><th>channels</th><th>payouts sat</th><th>vbytes</th><th>confirmed</th></tr></thead>
<tbody></tbody></table>
<h2>Audit anchors</h2><div id="anchors-note" class="muted"></div>
<table id="anchors"><thead><tr><th>seq</th><th>entries</th><th>txids</th><th>status</th></tr></thead><tbody></tbody></table>
<script src="/dashboard/app.js"></script>
</body></html>
`

export const DASHBOARD_JS = `'use strict'
const POLL_MS = 1000
const $ = id => document.getElementById(id)
const sat = msat => (msat === null || msat === undefined) ? '-' : Math.floor(msat / 1000).toLocaleString('en-US')
function fill (id, rows) {
  const body = $(id).querySelector('tbody')
  body.replaceChildren(...rows.map(cells => {
    const tr = document.createElement('tr')
    for (const c of cells) {
      const td = document.createElement('td')
      td.textContent = c === null || c === undefined ? '-' : String(c)
      if (typeof c === 'number' || /^[0-9,.]+$/.test(String(c))) td.className = 'n'
      tr.appendChild(td)
    }
    return tr
  }))
}
async function get (path, as) {
  const r = await fetch(path, { credentials: 'same-origin' })
  if (r.status === 401) { location.href = '/dashboard/login'; throw new Error('logged out') }
  if (r.status === 404) return undefined
  if (!r.ok) throw new Error(path + ': ' + r.status)
  return as === 'text' ? r.text() : r.json()
}
const metric = (text, name) => { const m = new RegExp('^' + name + ' (\\\\S+)$', 'm').exec(text); return m ? Number(m[1]) : null }
let last
async function tick () {
  try {
    const [info, channels, stats, payments, metrics] = await Promise.all([
      get('/info'), get('/channels'), get('/stats'), get('/payments?limit=15'), get('/metrics', 'text'),
    ])
    $('node-state').textContent = 'serving'
    $('node-detail').textContent = 'height ' + info.height + ', ' + info.sessions + ' sessions, wallet ' +
      info.wallet.spendable + ' sat'
    $('fulfilled-count').textContent = String(stats.fulfilled)
    $('failed-count').textContent = String(stats.failed)
    $('fees').textContent = sat(stats.fees_msat)
    const now = Date.now(), ended = stats.fulfilled + stats.failed
    if (last !== undefined && now > last.at) {
      $('payments-per-second').textContent = ((ended - last.ended) * 1000 / (now - last.at)).toFixed(1)
    }
    last = { at: now, ended }
    $('held-count').textContent = String(metric(metrics, 'hub_held_payments') ?? '-')
    $('htlc-count').textContent = String(metric(metrics, 'hub_htlcs_in_flight') ?? '-')
    fill('channels', channels.map(c => [c.channel_id.slice(0, 16), c.peer.slice(0, 16), c.status, c.phase,
      c.capacity_sat.toLocaleString('en-US'), sat(c.local_msat), sat(c.remote_msat), c.htlcs]))
    fill('failures', Object.entries(stats.failed_by_reason))
    fill('payments', payments.map(p => [new Date(p.at).toISOString().slice(11, 19), p.status, sat(p.amount_msat), p.reason]))
    $('channels-error').textContent = ''
    $('updated').textContent = 'updated ' + new Date().toISOString().slice(11, 19)
  } catch (e) {
    $('node-state').textContent = 'unreachable'
    $('channels-error').textContent = String(e.message)
  }
  try {
    const s = await get('/settlement')
    if (s === undefined) $('settlement').textContent = 'not available on this hub (no GET /settlement)'
    else {
      const { last_batches, batches, ...rest } = s
      $('settlement').textContent = JSON.stringify(rest, null, 1)
      fill('batches', (last_batches || batches || []).map(b => [b.txid, Array.isArray(b.channels) ? b.channels.length : b.channels,
        b.payouts_sat, b.vbytes, String(b.confirmed)]))
    }
  } catch (e) { $('settlement').textContent = String(e.message) }
  try {
    const k = await get('/node-key')
    $('node-key').textContent = k === undefined ? '-' : k.current.slice(0, 16)
    $('node-key-detail').textContent = k === undefined ? 'not available on this hub (no GET /node-key)'
      : k.phase === 'single' ? 'single key' : k.phase + ' until height ' + k.grace_until_height + ', also ' + k.previous.slice(0, 16)
  } catch (e) { $('node-key-detail').textContent = String(e.message) }
  try {
    const a = await get('/audit/anchors')
    $('anchors-note').textContent = a === undefined ? 'not available on this hub (no GET /audit/anchors)'
      : a.anchored_to + ' of ' + a.entries + ' entries anchored'
    fill('anchors', (a === undefined ? [] : a.anchors)
      .map(x => [x.seq, x.from + '..' + (x.to - 1), (x.txids || [x.txid]).join(' '), x.status]))
  } catch (e) { $('anchors-note').textContent = String(e.message) }
}
tick()
setInterval(tick, POLL_MS)
`
