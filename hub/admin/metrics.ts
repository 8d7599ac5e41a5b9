// The hub's Prometheus metrics (GET /metrics, text exposition format, behind the read-only token): one
// registry of this process's, with prom-client. Counters and histograms are fed as things happen
// (payments from the router, store commits and btcd calls from the host's observer, host/observe.ts,
// rejected frames from the transport, settlement batches from whoever builds them: settlementBatch
// below); gauges are read from their sources when scraped. Counters start at zero with the process, as
// Prometheus expects (rate() handles restarts); the figures kept across restarts are GET /stats.
// Histograms carry no labels: one series each keeps them cheap, and text-format parsers that merge
// labelled histograms (parse-prometheus-text-format does) read them right; their counters say more.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { HostObserver, RpcOutcome } from '../../host/observe.ts'
import type { NodeKeyPhase } from '../../protocol/node-key/rotation.ts'
import type { PaymentEvent } from '../router/router.ts'
import type { ExtraRoute } from './server.ts'

/** What the gauges read when scraped. */
export interface MetricSources {
  channels (): ReadonlyArray<{ phase: string; capacitySat: number; localMsat: number; remoteMsat: number; htlcs: number }>
  heldPayments (): number
  sessions (): number
  feesEarnedMsat (): number
  /** The node key's rotation (hub/identity/node-keys.ts status): the key proved by default, and the
   *  height its grace ends at (null outside a rotation's or rollback's grace). */
  nodeKey (): { current: string; phase: NodeKeyPhase; graceUntilHeight: number | null }
}

/** The node key's phases (protocol/node-key/rotation.ts): one series each, so a change shows as 1 → 0. */
const NODE_KEY_PHASES: readonly NodeKeyPhase[] = ['single', 'grace_rotate', 'grace_rollback']

/** Payment latencies (forwarded to fulfilled or failed), seconds: a payee online answers in tens of
 *  ms; a held payment waits up to router.holdMs (minutes). */
const LATENCY_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300]
/** fsync and RPC latencies, seconds: an SSD syncs in ~1 ms, a loaded disk in tens. */
const IO_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5]
/** Settlement transaction sizes, vbytes: one channel's splice is ~200 vB, a batch of hundreds ~50 kvB. */
const VBYTES_BUCKETS = [250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000]

export class HubMetrics {
  readonly registry = new Registry()
  private readonly paymentsForwarded: Counter
  private readonly payments: Counter<'outcome' | 'reason'>
  private readonly latency: Histogram
  private readonly storeCommit: Histogram
  private readonly rpcSeconds: Histogram
  private readonly rpcErrors: Counter<'method' | 'kind'>
  private readonly rejectedFrames: Counter<'reason'>
  private readonly settlementBatches: Counter<'outcome'>
  private readonly settlementVbytes: Histogram
  private readonly settlementLastVbytes: Gauge
  private readonly settlementChannels: Gauge

  constructor (sources: MetricSources) {
    const registers = [this.registry]
    collectDefaultMetrics({ register: this.registry })
    this.paymentsForwarded = new Counter({
      name: 'hub_payments_forwarded_total', help: 'Payments forwarded to their payee (circuit stored).', registers,
    })
    this.payments = new Counter({
      name: 'hub_payments_total', help: 'Payments ended, by outcome (fulfilled, failed) and failure reason.',
      labelNames: ['outcome', 'reason'], registers,
    })
    this.latency = new Histogram({
      name: 'hub_payment_latency_seconds', help: 'Payments forwarded, from forwarded to fulfilled or failed back.',
      buckets: LATENCY_BUCKETS, registers,
    })
    this.storeCommit = new Histogram({
      name: 'hub_store_commit_seconds', help: 'Durable store batches (one fsync each, group commit) by their latency.',
      buckets: IO_BUCKETS, registers,
    })
    this.rpcSeconds = new Histogram({
      name: 'hub_btcd_rpc_seconds', help: 'btcd RPC calls (with their retries) by latency.',
      buckets: IO_BUCKETS, registers,
    })
    this.rpcErrors = new Counter({
      name: 'hub_btcd_rpc_errors_total', help: 'btcd RPC calls that failed, by method and kind (unavailable, bad_reply, rpc_error).',
      labelNames: ['method', 'kind'], registers,
    })
    this.rejectedFrames = new Counter({
      name: 'hub_rejected_frames_total', help: 'Peer frames that were not valid messages, by the codec\'s reason.',
      labelNames: ['reason'], registers,
    })
    this.settlementBatches = new Counter({
      name: 'hub_settlement_batches_total', help: 'Settlement batches ended, by outcome (confirmed, failed).', labelNames: ['outcome'],
      registers,
    })
    this.settlementVbytes = new Histogram({
      name: 'hub_settlement_batch_vbytes', help: 'Size of the settlement transactions broadcast.', buckets: VBYTES_BUCKETS, registers,
    })
    this.settlementLastVbytes = new Gauge({ name: 'hub_settlement_last_batch_vbytes', help: 'The last batch\'s size.', registers })
    this.settlementChannels = new Gauge({ name: 'hub_settlement_last_batch_channels', help: 'Channels in the last batch.', registers })

    // ── gauges read when scraped ──
    new Gauge({
      name: 'hub_channels', help: 'Channels by phase.', labelNames: ['phase'], registers,
      collect () {
        this.reset()
        for (const ch of sources.channels()) this.inc({ phase: ch.phase })
      },
    })
    new Gauge({
      name: 'hub_channel_capacity_sat', help: 'Capacity of the channels in phase normal.', registers,
      collect () { this.set(sources.channels().filter(c => c.phase === 'normal').reduce((n, c) => n + c.capacitySat, 0)) },
    })
    new Gauge({
      name: 'hub_channel_balance_msat', help: 'Balances of the channels in phase normal, by side (hub, peer).', labelNames: ['side'],
      registers,
      collect () {
        const open = sources.channels().filter(c => c.phase === 'normal')
        this.set({ side: 'hub' }, open.reduce((n, c) => n + c.localMsat, 0))
        this.set({ side: 'peer' }, open.reduce((n, c) => n + c.remoteMsat, 0))
      },
    })
    new Gauge({
      name: 'hub_htlcs_in_flight', help: 'HTLCs in the channels\' latest commitments.', registers,
      collect () { this.set(sources.channels().reduce((n, c) => n + c.htlcs, 0)) },
    })
    new Gauge({
      name: 'hub_held_payments', help: 'Payments held for an offline payee.', registers, collect () { this.set(sources.heldPayments()) },
    })
    new Gauge({
      name: 'hub_websocket_sessions', help: 'Authenticated peer sessions.', registers, collect () { this.set(sources.sessions()) },
    })
    new Gauge({
      name: 'hub_node_key_info', help: 'The node key the hub proves by default (its id in the label; always 1).',
      labelNames: ['current'], registers,
      collect () { this.reset(); this.set({ current: sources.nodeKey().current }, 1) },
    })
    new Gauge({
      name: 'hub_node_key_rotation_grace_until_height',
      help: 'The height a node-key rotation\'s (or rollback\'s) grace ends at, both keys served until then; 0 outside a grace.',
      registers, collect () { this.set(sources.nodeKey().graceUntilHeight ?? 0) },
    })
    new Gauge({
      name: 'hub_node_key_rotation_phase', help: 'The node key\'s phase: 1 for the one it is in (single, grace_rotate, grace_rollback).',
      labelNames: ['phase'], registers,
      collect () {
        const now = sources.nodeKey().phase
        for (const phase of NODE_KEY_PHASES) this.set({ phase }, phase === now ? 1 : 0)
      },
    })
    new Gauge({
      name: 'hub_fees_earned_msat', help: 'Routing fees earned since the hub was first started (kept across restarts).', registers,
      collect () { this.set(sources.feesEarnedMsat()) },
    })
  }

  /** A payment event of the router, with its latency when it ended after being forwarded. */
  payment (e: PaymentEvent, latencyMs: number | null | undefined): void {
    if (e.type === 'forwarded') { this.paymentsForwarded.inc(); return }
    this.payments.inc({ outcome: e.type, reason: e.type === 'failed' ? e.reason : '' })
    if (latencyMs !== null && latencyMs !== undefined) this.latency.observe(latencyMs / 1000)
  }

  rejectedFrame (reason: string): void { this.rejectedFrames.inc({ reason }) }

  /** A settlement batch ended (for the settlement scheduler to call). */
  settlementBatch (b: { outcome: 'confirmed' | 'failed'; vbytes: number; channels: number }): void {
    this.settlementBatches.inc({ outcome: b.outcome })
    if (b.outcome === 'confirmed') {
      this.settlementVbytes.observe(b.vbytes)
      this.settlementLastVbytes.set(b.vbytes)
      this.settlementChannels.set(b.channels)
    }
  }

  /** The host layer's observer (host/observe.ts): store commits and btcd calls. */
  readonly host: HostObserver = {
    storeCommit: ms => { this.storeCommit.observe(ms / 1000) },
    rpcCall: (method: string, ms: number, outcome: RpcOutcome) => {
      this.rpcSeconds.observe(ms / 1000)
      if (outcome !== 'ok' && outcome !== 'refused') this.rpcErrors.inc({ method, kind: outcome })
    },
  }

  async text (): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() }
  }
}

/** GET /metrics on the admin server (behind its tokens: Prometheus sends one with `authorization:
 *  credentials_file`). */
export function metricsRoute (metrics: HubMetrics): ExtraRoute {
  return async (req, res, path) => {
    if (path !== '/metrics' || req.method !== 'GET') return false
    const { contentType, body } = await metrics.text()
    res.writeHead(200, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) })
    res.end(body)
    return true
  }
}
