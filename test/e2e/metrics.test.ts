// GET /metrics of a real hub process, scraped and parsed with a Prometheus text-format parser
// (parse-prometheus-text-format): behind the tokens, and the figures move with what happens: payments
// ok and failed by reason, their latency, channels by phase, capacity and balances, sessions, a peer's
// rejected frame, store commits (fsync) and btcd calls, process memory; the node key and its rotation's
// grace (before, during and after an operator's rotation).
import t from 'tap'
import path from 'node:path'
import { createRequire } from 'node:module'
import { useBtcd } from '../helpers/btcd.ts'
import { injector, startClient, startHubPlatformCreator, waitFor, type HubProcess } from '../helpers/hub.ts'

/** Blocks a rotation's grace lasts in this test (the test mines them to end it). */
const GRACE_BLOCKS = 3

type Sample = { value?: string; labels?: Record<string, string>; count?: string; sum?: string; buckets?: Record<string, string> }
type Family = { name: string; help: string; type: string; metrics: Sample[] }
const parse = createRequire(import.meta.url)('parse-prometheus-text-format') as (text: string) => Family[]

async function scrape (hub: HubProcess): Promise<Map<string, Family>> {
  const r = await hub.adminFetch('/metrics', { headers: { authorization: `Bearer ${hub.readToken}` } })
  if (r.status !== 200) throw new Error(`/metrics: ${r.status}`)
  if (!/^text\/plain; version=0\.0\.4/.test(r.headers.get('content-type') ?? '')) throw new Error('not the text exposition format')
  return new Map(parse(await r.text()).map(f => [f.name, f]))
}
const value = (m: Map<string, Family>, name: string, labels: Record<string, string> = {}): number => {
  const s = m.get(name)?.metrics.find(x => Object.entries(labels).every(([k, v]) => x.labels?.[k] === v))
  return s === undefined ? NaN : Number(s.value ?? s.count)
}

t.test('GET /metrics: Prometheus text format, parsed; payments, latency, channels, balances, sessions, frames, fsync, btcd', async t => {
  const btc = await useBtcd(t)
  const { dir, hub, platform, creator } = await startHubPlatformCreator(btc, t, {
    name: 'metrics', hubSat: 2_000_000, platformCapacitySat: 500_000, hubConfig: { channels: { fundingSat: 100_000 } },
  })
  t.equal((await hub.adminFetch('/metrics', { headers: { authorization: '' } })).status, 401, 'no token: 401')

  const before = await scrape(hub)
  for (const name of [
    'hub_payments_forwarded_total', 'hub_payments_total', 'hub_payment_latency_seconds', 'hub_htlcs_in_flight', 'hub_channels',
    'hub_channel_capacity_sat', 'hub_channel_balance_msat', 'hub_held_payments', 'hub_settlement_batches_total',
    'hub_settlement_batch_vbytes', 'hub_store_commit_seconds', 'hub_btcd_rpc_seconds', 'hub_btcd_rpc_errors_total',
    'hub_websocket_sessions', 'hub_rejected_frames_total', 'hub_fees_earned_msat', 'process_resident_memory_bytes',
    'nodejs_heap_size_used_bytes',
  ]) t.ok(before.has(name), `${name} is exposed`)
  t.equal(value(before, 'hub_channels', { phase: 'normal' }), 2, 'two channels in phase normal')
  t.equal(value(before, 'hub_channel_capacity_sat'), 600_000, 'their capacity')
  t.equal(value(before, 'hub_websocket_sessions'), 2, 'two sessions')
  t.ok(value(before, 'hub_store_commit_seconds') > 0, 'store commits (fsyncs) observed')
  t.ok(value(before, 'hub_btcd_rpc_seconds') > 0, 'btcd calls observed')
  t.ok(value(before, 'process_resident_memory_bytes') > 10_000_000, 'process memory')
  t.equal(before.get('hub_payment_latency_seconds')!.type, 'HISTOGRAM', 'latency is a histogram')

  for (const sat of [10_000, 20_000]) t.ok((await platform.pay((await creator.createInvoice({ amountMsat: sat * 1000 })).invoice)).ok)
  t.notOk((await platform.pay((await creator.createInvoice({ amountMsat: 150_000_000 })).invoice)).ok, 'one fails')
  const inj = injector()
  await startClient({ hub, btc, dataDir: path.join(dir, 'mallory'), role: 'platform', socketFactory: inj.factory }, t)
  inj.sendRaw('{"type":"make_me_rich","amount_msat":1}')

  await waitFor(async () => value(await scrape(hub), 'hub_payments_total', { outcome: 'fulfilled' }) === 2 &&
    value(await scrape(hub), 'hub_rejected_frames_total') >= 1, 'the payments and the frame counted', 30_000)
  const after = await scrape(hub)
  t.equal(value(after, 'hub_payments_forwarded_total'), 2, 'two forwarded')
  t.equal(value(after, 'hub_payments_total', { outcome: 'fulfilled' }), 2, 'two fulfilled')
  t.equal(value(after, 'hub_payments_total', { outcome: 'failed', reason: 'temporary_channel_failure' }), 1, 'one failed, by reason')
  t.equal(value(after, 'hub_payment_latency_seconds'), 2, 'two latencies observed (the failure was never forwarded)')
  const buckets = after.get('hub_payment_latency_seconds')!.metrics[0]!.buckets!
  t.equal(Number(buckets['+Inf']), 2, 'in the histogram\'s buckets')
  t.ok(Number(after.get('hub_payment_latency_seconds')!.metrics[0]!.sum) > 0, 'with their sum')
  t.ok(value(after, 'hub_rejected_frames_total') >= 1, 'the bad frame counted')
  t.match(after.get('hub_rejected_frames_total')!.metrics.map(s => s.labels?.reason), [/^[a-z_]+$/], 'by reason')
  t.equal(value(after, 'hub_websocket_sessions'), 3, 'three sessions')
  t.ok(value(after, 'hub_fees_earned_msat') > 0, 'fees earned')
  const hubSide = value(after, 'hub_channel_balance_msat', { side: 'hub' })
  const peerSide = value(after, 'hub_channel_balance_msat', { side: 'peer' })
  t.ok(hubSide > 0 && peerSide > 0, 'balances by side')
  t.ok(Math.abs(hubSide + peerSide - 600_000_000) < 20_000_000, 'which add up to the capacity, less the commitment fees')

  // ── the node key: one, then a rotation's grace (both served), then the new one alone ──
  t.equal(value(after, 'hub_node_key_info', { current: hub.hubId }), 1, 'the node key the hub proves, by its id')
  t.equal(value(after, 'hub_node_key_rotation_grace_until_height'), 0, 'no grace outside a rotation')
  t.equal(value(after, 'hub_node_key_rotation_phase', { phase: 'single' }), 1, 'phase single')
  const r = await hub.adminFetch('/node-key/rotate', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ grace_blocks: GRACE_BLOCKS }),
  })
  const rotated = await r.json() as { current: string; previous: string; grace_until_height: number }
  t.equal(r.status, 200, 'the operator rotates the node key')
  const during = await scrape(hub)
  t.equal(value(during, 'hub_node_key_info', { current: rotated.current }), 1, 'during the grace: the new key is current')
  t.equal(during.get('hub_node_key_info')!.metrics.length, 1, '... one series (the old key\'s is gone)')
  t.equal(value(during, 'hub_node_key_rotation_grace_until_height'), rotated.grace_until_height, '... the height the grace ends at')
  t.same([value(during, 'hub_node_key_rotation_phase', { phase: 'grace_rotate' }), value(during, 'hub_node_key_rotation_phase',
    { phase: 'single' })], [1, 0], '... phase grace_rotate')
  await btc.mine(GRACE_BLOCKS)
  await waitFor(async () => value(await scrape(hub), 'hub_node_key_rotation_grace_until_height') === 0, 'the grace ends', 30_000)
  const ended = await scrape(hub)
  t.equal(value(ended, 'hub_node_key_info', { current: rotated.current }), 1, 'after the grace: the new key alone')
  t.equal(value(ended, 'hub_node_key_rotation_phase', { phase: 'single' }), 1, '... phase single again')
})
