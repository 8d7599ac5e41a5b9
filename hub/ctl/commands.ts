// hubctl's commands: each asks the admin API (hub/ctl/client.ts) and prints a table for people or, with
// --json, the API's own JSON for scripts. Each command's route is named in its description, so
// `hubctl <command> --help` says what it asks.
import fs from 'node:fs'
import { AdminClient, CtlError, EXIT, errorOf } from './client.ts'
import { fields, sat, short, table, when } from './table.ts'

export interface Out {
  json: boolean
  print (s: string): void
  /** Progress lines (stderr): one each time what is shown changes. */
  progress (s: string): void
}

type Row = Record<string, unknown>
const rows = (v: unknown): Row[] => (Array.isArray(v) ? v as Row[] : [])
const num = (v: unknown): number | null => (typeof v === 'number' ? v : null)
const str = (v: unknown): string | null => (typeof v === 'string' ? v : v === null || v === undefined ? null : JSON.stringify(v))

function emit (o: Out, body: unknown, human: () => string): void {
  o.print(o.json ? JSON.stringify(body, null, 2) : human())
}

export async function status (c: AdminClient, o: Out): Promise<void> {
  const info = (await c.call('GET', '/info')).body as Row
  const stats = (await c.call('GET', '/stats')).body as Row
  const channels = rows((await c.call('GET', '/channels')).body)
  const wallet = (info.wallet ?? {}) as Row
  const byStatus = new Map<string, number>()
  for (const ch of channels) byStatus.set(String(ch.status), (byStatus.get(String(ch.status)) ?? 0) + 1)
  emit(o, { info, stats, channels_by_status: Object.fromEntries(byStatus) }, () => fields([
    ['hub id', str(info.hub_id)], ['websocket', str(info.ws)], ['height', num(info.height)], ['sessions', num(info.sessions)],
    ['wallet', `${num(wallet.spendable) ?? '-'} sat spendable of ${num(wallet.total) ?? '-'} sat`],
    ['channels', [...byStatus].map(([s, n]) => `${n} ${s}`).join(', ') || 'none'],
    ['payments', `${num(stats.fulfilled) ?? 0} fulfilled, ${num(stats.failed) ?? 0} failed, ${num(stats.forwarded) ?? 0} forwarded`],
    ['fees earned', `${sat(num(stats.fees_msat))} sat`],
    ...restoredField(info.restored),
  ]))
}

/** A hub started from a backup says so, with the channels it still holds (hub/backup/restored.ts). */
function restoredField (r: unknown): Array<[string, string]> {
  if (typeof r !== 'object' || r === null) return []
  const x = r as Row
  const held = Array.isArray(x.channels_held) ? x.channels_held.length : 0
  return [['restored', `from the backup of ${str(x.backup_created_at) ?? '?'}; ${held} channel(s) held until their peers reconnect`]]
}

export async function peers (c: AdminClient, o: Out): Promise<void> {
  const body = (await c.call('GET', '/peers')).body
  emit(o, body, () => table(
    ['node id', 'connected', 'channels', 'open', 'hub sat', 'peer sat'],
    rows(body).map(p => [short(str(p.node_id), 20), p.connected === true ? 'yes' : 'no', num(p.channels), num(p.open_channels),
      sat(num(p.local_msat)), sat(num(p.remote_msat))]),
  ))
}

export interface ChannelFilter { status?: string; phase?: string; peer?: string }

export async function channels (c: AdminClient, o: Out, f: ChannelFilter): Promise<void> {
  const all = rows((await c.call('GET', '/channels')).body)
  const kept = all.filter(ch => (f.status === undefined || ch.status === f.status) && (f.phase === undefined || ch.phase === f.phase) &&
    (f.peer === undefined || String(ch.peer).startsWith(f.peer)))
  emit(o, kept, () => table(
    ['channel id', 'peer', 'status', 'phase', 'capacity sat', 'hub sat', 'peer sat', 'htlcs', 'link'],
    kept.map(ch => [short(str(ch.channel_id)), short(str(ch.peer)), str(ch.status), str(ch.phase),
      num(ch.capacity_sat)?.toLocaleString('en-US'), sat(num(ch.local_msat)), sat(num(ch.remote_msat)), num(ch.htlcs), str(ch.link)]),
  ))
}

export async function payments (c: AdminClient, o: Out, p: { failed: boolean; limit: number }): Promise<void> {
  const body = (await c.call('GET', `/payments?limit=${p.limit}${p.failed ? '&failed=true' : ''}`)).body
  emit(o, body, () => table(
    ['at', 'status', 'amount sat', 'fee msat', 'payee', 'latency ms', 'reason'],
    rows(body).map(r => [when(num(r.at)), str(r.status), sat(num(r.amount_msat)), num(r.fee_msat), short(str(r.payee)),
      num(r.latency_ms), str(r.reason)]),
  ))
}

export async function fees (c: AdminClient, o: Out, period: string | undefined): Promise<void> {
  const stats = (await c.call('GET', '/stats')).body as Row
  const ledger = await c.raw('GET', `/fees${period !== undefined ? `?period=${encodeURIComponent(period)}` : ''}`)
  if (o.json) o.print(JSON.stringify({ fees_msat: stats.fees_msat, by_period: ledger.status === 200 ? ledger.body : null }, null, 2))
  else {
    o.print(fields([['fees earned', `${sat(num(stats.fees_msat))} sat (${num(stats.fees_msat) ?? 0} msat), since the first start`]]))
    if (ledger.status === 200) {
      const list = Array.isArray(ledger.body) ? ledger.body as Row[] : rows((ledger.body as Row).periods)
      o.print(list.length > 0
        ? table(Object.keys(list[0]!), list.map(r => Object.values(r).map(v => (typeof v === 'object' ? JSON.stringify(v) : v as string))))
        : JSON.stringify(ledger.body, null, 2))
    }
  }
  if (ledger.status !== 200) throw errorOf('GET', '/fees', ledger)
}

/** The settlement's state (GET /settlement), shown as its fields and a table of the last batches. */
function settlementText (s: Row): string {
  const batches = rows(s.last_batches ?? s.batches)
  const inProgress = (s.in_progress ?? s.batch ?? null) as Row | null
  const scalar = Object.entries(s).filter(([, v]) => typeof v !== 'object' || v === null) as Array<[string, string | number | null]>
  return [
    fields([
      ...scalar,
      ['schedule', str(s.schedule)],
      ['in progress', inProgress === null ? 'none' : `${str(inProgress.stage) ?? '?'} ${str(inProgress.txid) ?? ''}`.trim()],
    ]),
    '', 'last batches:',
    table(['txid', 'channels', 'payouts sat', 'vbytes', 'confirmed'], batches.map(b => [
      str(b.txid), Array.isArray(b.channels) ? b.channels.length : num(b.channels), num(b.payouts_sat), num(b.vbytes), str(b.confirmed),
    ])),
    ...(Array.isArray(s.last_closes) && s.last_closes.length > 0 ? [
      '', 'last idle closes:',
      table(['channel', 'height', 'idle blocks', 'stage', 'closing txid', 'account sat'], rows(s.last_closes).map(c => [
        str(c.channel_id), num(c.height), num(c.idle_blocks), str(c.stage), str(c.closing_txid), num(c.account_sat),
      ])),
    ] : []),
  ].join('\n')
}

export async function settlementStatus (c: AdminClient, o: Out): Promise<void> {
  const s = (await c.call('GET', '/settlement')).body as Row
  emit(o, s, () => settlementText(s))
}

/** Waits at most this long for a batch started by `settle now` to confirm. */
export const SETTLE_WAIT_MS = 30 * 60_000
const SETTLE_POLL_MS = 1_000

/** POST /settlement/run, then (unless `wait` is false) the batch's stages as it gathers signatures and
 *  confirms, until it is confirmed, has ended, or SETTLE_WAIT_MS passed. */
export async function settleNow (c: AdminClient, o: Out, wait: boolean): Promise<void> {
  const started = (await c.call('POST', '/settlement/run')).body as Row
  if (!wait) { emit(o, started, () => fields(Object.entries(started).map(([k, v]) => [k, str(v)]))); return }
  const deadline = Date.now() + SETTLE_WAIT_MS
  let last = ''
  for (;;) {
    const s = (await c.call('GET', '/settlement')).body as Row
    const b = (s.in_progress ?? s.batch ?? null) as Row | null
    const line = b === null ? 'no batch in progress' : `batch ${str(b.txid) ?? ''}: ${str(b.stage) ?? '?'}` +
      (b.signed !== undefined ? ` ` +
        `(${str(b.signed)}/${str(b.channels_count ?? (Array.isArray(b.channels) ? b.channels.length : b.channels))} signed)` : '')
    if (line !== last) { o.progress(line); last = line }
    if (b === null || b.stage === 'confirmed' || b.stage === 'failed' || b.stage === 'abandoned') {
      emit(o, s, () => settlementText(s))
      return
    }
    if (Date.now() > deadline) throw new CtlError(
      EXIT.refused, `settle now: the batch is still ${str(b.stage)} after ${SETTLE_WAIT_MS / 60_000} min`,
    )
    await new Promise(resolve => setTimeout(resolve, SETTLE_POLL_MS))
  }
}

export async function close (c: AdminClient, o: Out, channelId: string, allowDustTrim: boolean): Promise<void> {
  const body = (await c.call(
    'POST', '/channels/close', { channel_id: channelId, ...(allowDustTrim ? { allow_dust_trim: true } : {}) },
  )).body
  emit(o, body, () => `closing ${channelId}: ${str((body as Row).phase)}`)
}

export async function forceClose (c: AdminClient, o: Out, channelId: string): Promise<void> {
  const body = (await c.call('POST', '/channels/force-close', { channel_id: channelId })).body as Row
  emit(o, body, () => `force-closing ${channelId}: the hub's commitment ${body.broadcast === true ? 'is broadcast' : 'goes on-chain'}`)
}

export async function policyList (c: AdminClient, o: Out): Promise<void> {
  const body = (await c.call('GET', '/policies')).body
  emit(o, body, () => JSON.stringify(body, null, 2))
}

export async function policyShow (c: AdminClient, o: Out, nodeId: string): Promise<void> {
  const body = (await c.call('GET', `/accounts/${encodeURIComponent(nodeId)}/policy`)).body
  emit(o, body, () => JSON.stringify(body, null, 2))
}

export async function policySet (c: AdminClient, o: Out, nodeId: string, json: string): Promise<void> {
  let policy: unknown
  try { policy = JSON.parse(json) } catch {
    throw new CtlError(EXIT.usage, `policy set: POLICY must be JSON (got ${JSON.stringify(json)})`)
  }
  const body = (await c.call('POST', `/accounts/${encodeURIComponent(nodeId)}/policy`, policy)).body
  emit(o, body, () => `policy of ${nodeId} set:\n${JSON.stringify(body, null, 2)}`)
}

export async function auditExport (c: AdminClient, o: Out, q: { from?: string; to?: string; out?: string }): Promise<void> {
  const params = new URLSearchParams()
  if (q.from !== undefined) params.set('from', q.from)
  if (q.to !== undefined) params.set('to', q.to)
  const a = await c.call('GET', `/audit/export${params.size > 0 ? `?${params.toString()}` : ''}`)
  if (q.out !== undefined) {
    fs.writeFileSync(q.out, a.text.endsWith('\n') || a.text === '' ? a.text : a.text + '\n')
    o.print(o.json ? JSON.stringify({ file: q.out, lines: a.text.split('\n').filter(l => l !== '').length }) : `wrote ${q.out}`)
  } else o.print(a.text.replace(/\n$/, ''))
}

export async function auditAnchors (c: AdminClient, o: Out): Promise<void> {
  const body = (await c.call('GET', '/audit/anchors')).body
  emit(o, body, () => table(['seq', 'from', 'to', 'txids', 'status'], rows(body).map(a => [
    num(a.seq), num(a.from), num(a.to), Array.isArray(a.txids) ? a.txids.join(' ') : str(a.txid), str(a.status),
  ])))
}

export async function auditAnchor (c: AdminClient, o: Out): Promise<void> {
  const body = (await c.call('POST', '/audit/anchor')).body
  emit(o, body, () => JSON.stringify(body, null, 2))
}

export async function rotateCert (c: AdminClient, o: Out): Promise<void> {
  const body = (await c.call('POST', '/tls/rotate')).body as Row
  emit(o, body, () => body.changed === true
    ? `new certificate ${str(body.fingerprint256)} in place of ${str(body.previous_fingerprint256)}`
    : `the certificate files hold the certificate in use: ${str(body.fingerprint256)}`)
}

export async function mine (c: AdminClient, o: Out, blocks: number): Promise<void> {
  const body = (await c.call('POST', '/regtest/mine', { blocks })).body as Row
  emit(o, body, () => `mined ${str(body.blocks)} block(s); tip ${str(body.tip)}`)
}

export async function faucet (c: AdminClient, o: Out, address: string, amountSat: number, confirm: boolean): Promise<void> {
  const body = (await c.call(
    'POST', '/regtest/faucet', { address, amount_sat: amountSat, ...(confirm ? {} : { confirm: false }) },
  )).body as Row
  emit(o, body, () => `paid ${str(body.amount_sat)} sat to ${address}: ${str(body.txid)}${body.confirmed === true ? ', confirmed' : ''}`)
}
