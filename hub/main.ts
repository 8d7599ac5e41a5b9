// The hub process, and the only place that wires concrete implementations together (DESIGN.md
// "Layout"): LevelDB store in the data dir, the chain backend (a managed regtest btcd by default, or
// an external btcd), the wallet, the channel manager, funding, router, close broadcaster, the
// WebSocket transport and the admin API.
//
//   tsx hub/main.ts --data-dir D [--btcd-rpc http://user:pass@127.0.0.1:18334] [--port N]
//                   [--admin-port N] [--config hub.json] [--fee-base-msat N] [--fee-ppm N]
//                   [--channel-sat N] [--hold-ms N] [--min-depth N]
//
// When ready it prints ONE JSON line on stdout:
//   {"event":"listening","ws":"ws://127.0.0.1:PORT","hub_id":"02..","rpc":"http://127.0.0.1:PORT"}
// (`rpc` is the admin API, hub/admin/server.ts). Later lines are JSON log events. SIGTERM/SIGINT shut
// down cleanly (exit 0). A failed durable write or a wiped chain prints {"event":"fatal",...} and
// exits with code 70: the hub stops loudly rather than carry on with an unknown state.
//
// Crash injection for tests: HUB_CRASH_AT=<before|after>:<point>:<n> (host/crash-points.ts lists the
// points). Helper to spawn it as a child process: startHub() in test/helpers/hub.ts.
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { nodeIdOf } from '../protocol/auth/signature.ts'
import { setDefaultCurve } from '../protocol/crypto/index.ts'
import { tinyCurve } from '../protocol/crypto/tiny.ts'
import { bytesToHex, hexToBytes, type ChannelId, type NodeId } from '../protocol/types.ts'
import { closingTrims, type Phase } from '../protocol/channel/index.ts'
import { AuditLog } from './audit/index.ts'
import type { ChainBackend, RegtestControl } from '../host/chain/backend.ts'
import { BtcdChainBackend } from '../host/chain/btcd/backend.ts'
import { startBtcd, type ManagedBtcd } from '../host/chain/btcd/node.ts'
import { CloseBroadcaster } from './channels/closing.ts'
import { ChannelManager, type ManagedChannel } from './channels/manager.ts'
import { HubMonitoring } from './channels/monitoring.ts'
import { loadPreimage } from '../host/channel/index.ts'
import { parseHubConfig, type HubConfig, type HubConfigInput } from './config.ts'
import { Funding } from './funding/funding.ts'
import { InboundChannels } from './funding/inbound.ts'
import { CircuitStore } from './router/circuits.ts'
import { Router } from './router/router.ts'
import { LevelStore } from '../host/store/node/level-store.ts'
import { HubTransport } from './transport/server.ts'
import { Wallet } from '../host/wallet/wallet.ts'
import { fileWalletStorage } from '../host/wallet/node/file-storage.ts'
import { AdminServer } from './admin/server.ts'

export interface RunningHub {
  hubId: NodeId
  wsUrl: string
  adminUrl: string
  manager: ChannelManager
  router: Router
  wallet: Wallet
  stop (): Promise<void>
}

/** Coinbases paid to the hub's wallet on a fresh managed chain: hub-funded channels per block. */
const MANAGED_COINBASES = 20

type Log = (event: Record<string, unknown>) => void

/** The node key: 32 bytes in <dataDir>/node-key.hex, mode 0600, created on first start. */
function loadNodeKey (dataDir: string): Uint8Array {
  const file = path.join(dataDir, 'node-key.hex')
  if (!fs.existsSync(file)) {
    const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600)
    try { fs.writeSync(fd, bytesToHex(randomBytes(32)) + '\n'); fs.fsyncSync(fd) } finally { fs.closeSync(fd) }
  }
  const text = fs.readFileSync(file, 'utf8').trim()
  if (!/^[0-9a-f]{64}$/.test(text)) throw new Error(`${file}: expected 32 bytes of lowercase hex`)
  return hexToBytes(text)
}

/** Starts every part of the hub. `fatal` is called (once) when the hub must stop loudly. */
export async function runHub (config: HubConfig, log: Log, fatal: (why: string, detail: unknown) => void): Promise<RunningHub> {
  // Startup stages with the ms since the process started (the restart time's breakdown).
  const stage = (name: string, extra: Record<string, unknown> = {}): void => { log({ event: 'startup', stage: name, ms: Math.round(performance.now()), ...extra }) }
  // The WASM curve (tiny-secp256k1): signing and point arithmetic of every commitment are 2–3× faster
  // than pure-JS noble, which took over half the hub's CPU under load (npm run bench -- --cpu-prof).
  setDefaultCurve(tinyCurve)
  log({ event: 'curve', name: tinyCurve.name })
  fs.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 })
  const nodeKey = loadNodeKey(config.dataDir)
  const hubId = nodeIdOf(nodeKey)
  const cleanups: Array<() => Promise<void> | void> = []

  // ── chain ──
  let managed: ManagedBtcd | undefined
  let chain: BtcdChainBackend
  if (config.btcd.mode === 'managed') {
    managed = await startBtcd({ dataDir: path.join(config.dataDir, 'btcd') })
    chain = managed.backend()
  } else {
    chain = new BtcdChainBackend({ host: config.btcd.host, port: config.btcd.port, user: config.btcd.user, pass: config.btcd.pass })
  }
  cleanups.push(async () => { await chain.close(); await managed?.stop() })
  const genesis = await chain.getBlockHash(0)
  if (!genesis.ok || genesis.value === null) throw new Error(`chain: cannot read the genesis block (${genesis.ok ? 'none' : genesis.error.detail})`)
  // BOLT #2 chain_hash: the genesis block hash in internal byte order.
  const chainHash = bytesToHex(hexToBytes(genesis.value).reverse())
  const tip = await chain.tip()
  if (!tip.ok) throw new Error(`chain: ${tip.error.detail}`)
  let height: number = tip.value.height
  stage('chain_connected')

  // ── store, wallet, audit log ──
  const store = await LevelStore.open(path.join(config.dataDir, 'store'))
  cleanups.push(() => store.close())
  const opened = await Wallet.open({
    storage: fileWalletStorage(path.join(config.dataDir, 'wallet')), chain,
    feeRate: config.walletFeeRate, finalityDepth: config.channels.finalityDepth,
    onFatal: e => fatal('chain_wiped', e.detail),
  })
  if (!opened.ok) {
    if (opened.error.kind === 'chain_wiped') fatal('chain_wiped', opened.error.detail)
    throw new Error(`wallet: ${JSON.stringify(opened.error)}`)
  }
  const wallet = opened.value
  cleanups.push(() => wallet.close())
  stage('wallet_opened')
  if (managed !== undefined && wallet.balance().total === 0) {
    // A fresh managed regtest chain: give the hub's wallet mature coins to fund channels with
    // (coinbases mature after 100 blocks; one coinbase per channel funding until change confirms).
    const script = wallet.newAddress().script
    for (let i = 0; i < MANAGED_COINBASES; i++) {
      const r = await chain.submitBlock([], { coinbaseScript: script })
      if (!r.ok) throw new Error(`mining the hub's first coins: ${JSON.stringify(r.error)}`)
    }
    const g = await chain.generate(100)
    if (!g.ok) throw new Error(`mining: ${g.error.detail}`)
    const synced = await chain.syncFollowers()
    if (!synced.ok) throw new Error(`chain sync: ${synced.error.detail}`)
    log({ event: 'wallet_funded', balance: wallet.balance() })
    const t = await chain.tip()
    if (t.ok) height = t.value.height
  }
  const audit = await AuditLog.open(store)
  const circuits = new CircuitStore(store)
  await circuits.load()
  stage('circuits_loaded', { circuits: circuits.all().length })
  // Preimages learned from now on; stored ones are looked up when a replay needs one (host/channel/record.ts).
  const preimages = new Map<string, string>()

  // ── channels, funding, router ──
  let transport: HubTransport | undefined
  const storeFailed = (e: unknown): void => fatal('store_failed', String(e))
  const shutdownScript = bytesToHex(wallet.newAddress().script)
  let monitoring: HubMonitoring | undefined
  const manager = new ChannelManager({
    store, audit, config, chainHash, log,
    persisted: (id, updates) => { monitoring?.persisted(id, updates) },
    blocked: id => monitoring?.stale.has(id) === true,
    forgetMonitor: async id => { await monitoring?.forget(id) },
    shutdownScript: () => shutdownScript,
    session: peer => transport?.session(peer),
    height: () => height,
    fatal: storeFailed,
    holdSessionsUntilReady: true,
  })
  const funding = new Funding({ manager, wallet, chain, config, log })
  const inbound = new InboundChannels({ manager, config, log })
  const router = new Router({
    hubId, manager, circuits, config, preimages, log, fatal: storeFailed,
    lookupPreimage: hash => loadPreimage(store, hash),
    height: () => height,
    openChannel: peer => inbound.openOnPayment(peer),
  })
  const closer = new CloseBroadcaster(chain, log)
  manager.listen(funding)
  manager.listen(inbound)
  manager.listen(router)
  manager.listen(closer)

  // ── network, early: peers connect and prove their keys while the hub loads; the manager holds
  // their sessions until it is ready (ChannelManager.ready), so a client's first retry succeeds. ──
  transport = await HubTransport.start({ nodeKey, handler: manager, config: config.transport, isKnownPeer: id => isChannelPartner(manager, id) })
  stage('transport_listening')
  const inputs: Array<() => Promise<void> | void> = [() => transport?.close()]

  const loaded = await manager.load()
  stage('channels_loaded', { channels: loaded })
  await checkFundingStillExists(chain, manager, fatal)
  stage('funding_checked')
  await router.reconcile()
  stage('reconciled')
  // Chain monitors of every channel (BOLT #5): catch up on the blocks missed while down first. They
  // also tell which channels are stale (scenario 6), which must not run: only then are peers served.
  monitoring = await HubMonitoring.start({
    store, chain, manager, router, circuits, log, fatal,
    sweepScript: bytesToHex(wallet.newAddress().script),
    depth: config.channels.finalityDepth, feeratePerKw: config.channels.feeratePerKw,
  })
  const monitors = monitoring
  cleanups.push(() => monitors.stop())
  stage('monitors_started', { monitors: monitors.host.channels().length })
  manager.ready()
  stage('serving')

  const stopFollowing = await chain.follow({
    connected: async b => { height = b.height; await manager.block(height); await funding.onBlock() },
    disconnected: async b => { height = b.height - 1; await funding.onBlock() },
    fatal: e => fatal('chain_wiped', e.detail),
  }, { guard: async () => await wallet.checkChain() })
  if (!stopFollowing.ok) throw new Error(`chain follow: ${stopFollowing.error.detail}`)
  inputs.push(() => stopFollowing.value())
  // What the chain moved while the hub was down, behind the serving peers: funding depths (a
  // channel's own confirmation height from its monitor spares a node RPC per final funding),
  // funding broadcasts a crash may have lost, HTLC deadlines.
  funding.markFinal(id => monitors.host.fundingHeight(id), height)
  const synced = (async () => {
    await funding.rebroadcastPending()
    await manager.block(height)
    await funding.onBlock()
    stage('chain_synced', { height })
  })().catch(e => { fatal('startup_failed', e instanceof Error ? e.stack ?? e.message : e) })

  const regtest: RegtestControl | undefined = managed !== undefined ? chain : undefined
  const admin = await AdminServer.start(config.adminPort, adminHandlers({ config, hubId, transport, manager, router, closer, wallet, inbound, regtest, chain, monitoring: monitors, height: () => height }))
  inputs.push(() => admin.close())
  log({ event: 'started', channels: loaded, circuits: circuits.all().length, height })

  let stopping: Promise<void> | undefined
  return {
    hubId, wsUrl: transport.url, adminUrl: admin.url, manager, router, wallet,
    stop: () => {
      stopping ??= (async () => {
        // Stop taking input, let every channel finish what it started, then close the store.
        for (const c of inputs.splice(0).reverse()) await c()
        await synced.catch(() => {})
        await Promise.all(manager.all().filter(ch => ch.running).map(ch => ch.driver.idle()))
        for (const c of cleanups.reverse()) await c()
      })()
      return stopping
    },
  }
}

/** Phases before a channel's funding has confirmed and channel_ready was exchanged. */
const ESTABLISHING: ReadonlySet<Phase> = new Set<Phase>(['awaiting_accept', 'awaiting_funding_tx', 'awaiting_funding_created', 'awaiting_funding_signed', 'awaiting_funding_depth'])

/**
 * A peer the transport keeps handshake slots for (hub/transport/admission.ts): it has a channel here
 * that became ready (its funding confirmed) and is not yet closed on-chain. A channel still being
 * opened does not count: opening one costs a stranger nothing until its funding confirms.
 */
function isChannelPartner (manager: ChannelManager, peer: NodeId): boolean {
  return manager.channelsOf(peer).some(ch => !ESTABLISHING.has(ch.state.phase) && ch.state.phase !== 'closed')
}

/** Scenario 12: a channel whose funding tx the node no longer knows was built on a chain that is gone
 *  (btcd wipes regtest on restart). Carrying on would treat vanished money as real. A wipe loses every
 *  funding tx at once, so a sample is enough (the newest channels are the likeliest to be shallow;
 *  the wallet's own checkpoints and final txids are checked when it opens): a few RPCs, not one per
 *  channel. */
const FUNDING_SAMPLE = 16
async function checkFundingStillExists (chain: ChainBackend, manager: ChannelManager, fatal: (why: string, detail: unknown) => void): Promise<void> {
  const funded = manager.all().filter(ch => {
    const s = ch.state
    return s.setup.funding !== undefined && s.localCommit !== undefined && s.phase !== 'awaiting_funding_depth'
  })
  // Distinct transactions (a batch transaction funds many channels), spread over the channels.
  const byTxid = new Map<string, ManagedChannel>()
  for (const ch of funded) if (!byTxid.has(ch.state.setup.funding!.txid)) byTxid.set(ch.state.setup.funding!.txid, ch)
  const distinct = [...byTxid.values()]
  const step = Math.max(1, Math.floor(distinct.length / FUNDING_SAMPLE))
  const sample = distinct.filter((_, i) => i % step === 0).slice(0, FUNDING_SAMPLE)
  const gone = await Promise.all(sample.map(async ch => {
    const s = ch.state
    const r = await chain.getRawTransaction(s.setup.funding!.txid)
    return r.ok && r.value === null ? `funding transaction ${s.setup.funding!.txid} of channel ${s.channelId} (phase ${s.phase}) is unknown to the node` : undefined
  }))
  const first = gone.find(g => g !== undefined)
  if (first !== undefined) fatal('chain_wiped', first)
}

function adminHandlers (x: {
  config: HubConfig; hubId: NodeId; transport: HubTransport; manager: ChannelManager; router: Router; closer: CloseBroadcaster; wallet: Wallet
  inbound: InboundChannels; regtest: RegtestControl | undefined; chain: ChainBackend; monitoring: HubMonitoring; height: () => number
}) {
  return {
    info: () => ({ hub_id: x.hubId, ws: x.transport.url, height: x.height(), wallet: x.wallet.balance(), sessions: x.transport.sessionCount }),
    channels: () => x.manager.all().map(ch => {
      const s = ch.state
      const spec = s.localCommit?.spec
      return {
        channel_id: s.channelId, peer: ch.peer, phase: s.phase, link: s.link, is_funder: s.setup.isFunder,
        capacity_sat: s.setup.capacitySat, funding_txid: s.setup.funding?.txid ?? null,
        local_msat: spec?.toLocalMsat ?? null, remote_msat: spec?.toRemoteMsat ?? null, htlcs: spec?.htlcs.length ?? 0,
        local_commitment_index: s.localCommit?.index ?? null, remote_commitment_index: s.remoteCommit?.index ?? null,
        stopped: ch.running && ch.driver.stoppedBy !== undefined,
        onchain: x.monitoring.onChain(s.channelId) ?? null,
      }
    }),
    stats: () => ({ forwarded: x.router.stats.forwarded, fulfilled: x.router.stats.fulfilled, failed: x.router.stats.failed, fees_msat: x.router.stats.feesMsat }),
    closed: () => [...x.closer.closed.values()].map(c => ({
      channel_id: c.channelId, peer: c.peer, closing_txid: c.closingTxid, fee_sat: c.feeSat, to_local_sat: c.toLocalSat, to_remote_sat: c.toRemoteSat,
      agreed_fee_sat: c.agreedFeeSat, trimmed_local_sat: c.trimmedLocalSat, trimmed_remote_sat: c.trimmedRemoteSat,
    })),
    newAddress: () => ({ address: x.wallet.newAddress().address }),
    open: async (peer: NodeId, fundingSat?: number) => {
      const r = await x.inbound.ensureChannel(peer, fundingSat ?? x.config.channels.fundingSat, 'operator')
      return 'error' in r ? r : { temporary_channel_id: r.driver.state.temporaryChannelId, channel_id: r.driver.channelId }
    },
    close: async (channelId: string, allowDustTrim: boolean) => {
      const ch = x.manager.get(channelId as ChannelId)
      if (ch === undefined) return { status: 404, body: { error: `channel_id: unknown channel ${channelId}` } }
      // BOLT #3: the closing transaction leaves out an output below the dust limit; its owner gets
      // nothing. The operator decides with that in view.
      const trims = closingTrims(ch.state)
      if (trims.length > 0 && !allowDustTrim) {
        return { status: 409, body: { error: `dust_trim: ${trims.map(t => `the ${t.side === 'local' ? 'hub' : 'peer'}'s ${t.amountSat} sat are below the dust limit of ${t.dustLimitSat} sat and would not be paid`).join('; ')}; send allow_dust_trim: true to close anyway`, trims: trims.map(t => ({ side: t.side === 'local' ? 'hub' : 'peer', amount_sat: t.amountSat, dust_limit_sat: t.dustLimitSat })) } }
      }
      let refused: string | undefined
      const before = ch.driver.state.closing.localScript
      await ch.driver.command({ type: 'shutdown' }, (_b, after) => { if (after.closing.localScript === before) refused = `cannot shut down in phase ${after.phase}` })
      return refused === undefined ? { status: 200, body: { ok: true, phase: ch.driver.state.phase } } : { status: 409, body: { error: refused } }
    },
    forceClose: async (channelId: string) => {
      const r = await x.monitoring.forceClose(channelId)
      switch (r.kind) {
        case 'failing': case 'already_failed': return { status: 200, body: { ok: true, broadcast: true } }
        case 'unfunded': return { status: 200, body: { ok: true, broadcast: false, detail: 'never funded: failed and forgotten, nothing on-chain' } }
        case 'refused': return { status: 409, body: { error: `${r.error.reason}: ${r.error.detail}` } }
        case 'stopped': return { status: 409, body: { error: 'the channel is stopped (a write failed); restart the hub' } }
        case 'unknown_channel': return { status: 404, body: { error: `channel_id: unknown channel ${channelId}` } }
      }
    },
    ...(x.regtest !== undefined ? {
      mine: async (blocks: number) => {
        const r = await x.regtest!.generate(blocks)
        if (!r.ok) throw new Error(`mine: ${r.error.detail}`)
        return { blocks: r.value.length, tip: r.value[r.value.length - 1] }
      },
    } : {}),
  }
}

// ── the process ──

function parseArgs (argv: string[]): { config: HubConfigInput } {
  const flags = new Map<string, string>()
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${JSON.stringify(a)}`)
    const eq = a.indexOf('=')
    if (eq > 0) flags.set(a.slice(2, eq), a.slice(eq + 1))
    else { const v = argv[++i]; if (v === undefined) throw new Error(`${a}: needs a value`); flags.set(a.slice(2), v) }
  }
  const file = flags.get('config')
  const base = file !== undefined ? JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown> : {}
  const config: Record<string, unknown> = { ...base }
  const num = (name: string): number | undefined => { const v = flags.get(name); if (v === undefined) return undefined; const n = Number(v); if (!Number.isFinite(n)) throw new Error(`--${name}: must be a number`); return n }
  const dataDir = flags.get('data-dir'); if (dataDir !== undefined) config.dataDir = dataDir
  const rpc = flags.get('btcd-rpc')
  if (rpc !== undefined) {
    const u = new URL(rpc)
    config.btcd = { mode: 'external', host: u.hostname, port: Number(u.port), user: decodeURIComponent(u.username || flags.get('btcd-user') || ''), pass: decodeURIComponent(u.password || flags.get('btcd-pass') || '') }
  }
  const transport = { ...(config.transport as object ?? {}) } as Record<string, unknown>
  if (num('port') !== undefined) transport.port = num('port')
  config.transport = transport
  if (num('admin-port') !== undefined) config.adminPort = num('admin-port')
  const fees = { ...(config.fees as object ?? {}) } as Record<string, unknown>
  if (num('fee-base-msat') !== undefined) fees.baseMsat = num('fee-base-msat')
  if (num('fee-ppm') !== undefined) fees.ppm = num('fee-ppm')
  if (Object.keys(fees).length > 0) config.fees = fees
  const channels = { ...(config.channels as object ?? {}) } as Record<string, unknown>
  if (num('channel-sat') !== undefined) channels.fundingSat = num('channel-sat')
  if (num('min-depth') !== undefined) channels.minimumDepth = num('min-depth')
  if (Object.keys(channels).length > 0) config.channels = channels
  if (num('hold-ms') !== undefined) config.router = { holdMs: num('hold-ms') }
  return { config: config as HubConfigInput }
}

async function main (): Promise<void> {
  const line = (o: Record<string, unknown>): void => { process.stdout.write(JSON.stringify(o) + '\n') }
  let hub: RunningHub | undefined
  const fatal = (why: string, detail: unknown): void => {
    const o = { event: 'fatal', reason: why, detail: String(detail) }
    line(o)
    process.stderr.write(`HUB STOPPED: ${why}: ${String(detail)}\n`)
    process.exit(70)
  }
  let args
  try { args = parseArgs(process.argv.slice(2)) } catch (e) { process.stderr.write(`hub: ${(e as Error).message}\n`); process.exit(2) }
  const parsed = parseHubConfig(args.config)
  if (!parsed.ok) { process.stderr.write(`hub: config: ${parsed.error}\n`); process.exit(2) }
  hub = await runHub(parsed.config, line, fatal)
  line({ event: 'listening', ws: hub.wsUrl, hub_id: hub.hubId, rpc: hub.adminUrl })
  let stopping = false
  const stop = (): void => {
    if (stopping) return
    stopping = true
    void hub!.stop().then(() => { line({ event: 'stopped' }); process.exit(0) }, e => { process.stderr.write(`hub: stop: ${String(e)}\n`); process.exit(1) })
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch(e => { process.stderr.write(`hub: ${(e as Error).stack ?? String(e)}\n`); process.exit(1) })
}
