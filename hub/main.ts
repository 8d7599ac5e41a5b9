// The hub process, and the only place that wires concrete implementations together (DESIGN.md
// "Layout"): LevelDB store in the data dir, the chain backend (a managed regtest btcd by default, or
// an external btcd), the wallet, the channel manager, funding, router, close broadcaster, splicing, the
// chain monitors, the WebSocket transport and the admin API. The command line and the process around the
// hub (flags, `--help`, the `listening` line, signals, exit codes) are hub/cli.ts.
//
// Crash injection for tests: HUB_CRASH_AT=<before|after>:<point>:<n> (host/crash-points.ts lists the
// points). Helper to spawn it as a child process: startHub() in test/helpers/hub.ts.
import fs from 'node:fs'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { setDefaultCurve } from '../protocol/crypto/index.ts'
import { tinyCurve } from '../protocol/crypto/tiny.ts'
import { bytesToHex, type NodeId } from '../protocol/types.ts'
import type { RegtestControl } from '../host/chain/backend.ts'
import { REGTEST_CHAIN_HASH, chainHashOf } from '../host/chain/chain-hash.ts'
import { BtcdChainBackend } from '../host/chain/btcd/backend.ts'
import type { ManagedBtcd } from '../host/chain/btcd/node.ts'
import { loadPreimage } from '../host/channel/index.ts'
import { setHostObserver } from '../host/observe.ts'
import { LevelStore } from '../host/store/node/level-store.ts'
import { PolicyStore } from './settlement/policy.ts'
import { AccountPolicies } from './settlement/account-policy.ts'
import { SettlementCoordinator } from './settlement/coordinator.ts'
import { ChannelActivity } from './settlement/activity.ts'
import { IdleCloses } from './settlement/idle-closes.ts'
import { Wallet } from '../host/wallet/wallet.ts'
import { fileWalletStorage } from '../host/wallet/node/file-storage.ts'
import { channelCommands } from './admin/channel-commands.ts'
import { Faucet } from './admin/faucet.ts'
import { dashboardPublic, dashboardRoute } from './admin/dashboard.ts'
import { HubMetrics, metricsRoute } from './admin/metrics.ts'
import { PaymentFigures } from './admin/payments.ts'
import { AdminServer } from './admin/server.ts'
import { ADMIN_TOKEN_FILE, READ_TOKEN_FILE, loadAdminTokens, writeAdminUrl } from './admin/tokens.ts'
import { adminViews } from './admin/views.ts'
import { walletCommands } from './admin/wallet.ts'
import { AuditLog } from './audit/index.ts'
import { auditCommands } from './audit/admin.ts'
import { Anchoring } from './audit/anchoring.ts'
import { HubReceipts } from './audit/receipts.ts'
import { CloseBroadcaster } from './channels/closing.ts'
import { ChannelManager } from './channels/manager.ts'
import { HubMonitoring } from './channels/monitoring.ts'
import { HubSplicing } from './channels/splicing.ts'
import { isChannelPartner } from './channels/partners.ts'
import { runFromCommandLine, type Log } from './cli.ts'
import type { HubConfig } from './config.ts'
import { lostFunding } from './funding/chain-wipe-check.ts'
import { mineFirstCoins } from './funding/first-coins.ts'
import { Funding } from './funding/funding.ts'
import { InboundChannels } from './funding/inbound.ts'
import { WALLET_DIR, managedBtcdInfo, startAutoMiner, startManagedBtcd } from './managed-btcd.ts'
import { HubNodeKeys } from './identity/node-keys.ts'
import { nodeKeyRoutes } from './admin/node-key-routes.ts'
import { CircuitStore } from './router/circuits.ts'
import { HoldStore } from './router/holds.ts'
import { PayerKeys } from './router/payer-keys.ts'
import { Ledger } from './accounting/ledger.ts'
import { AccountChainMoves } from './accounting/chain-moves.ts'
import { Router } from './router/router.ts'
import { SplitRelay } from './router/split-relay.ts'
import { HubTransport } from './transport/server.ts'
import { CertificateRotation, loadCertificatePair } from './transport/tls-files.ts'
import { tlsRotateRoute } from './admin/tls-routes.ts'
import { backupRoute } from './admin/backup-routes.ts'
import { RestoredChannels } from './backup/restored.ts'

export interface RunningHub {
  hubId: NodeId
  wsUrl: string
  adminUrl: string
  manager: ChannelManager
  router: Router
  wallet: Wallet
  /** The Prometheus metrics (GET /metrics); settlementBatch() is for the settlement scheduler. */
  metrics: HubMetrics
  /** Extra fields of the `listening` line (the managed node's RPC login). */
  listening: Record<string, unknown>
  stop (): Promise<void>
}

/** Starts every part of the hub. `fatal` is called (once) when the hub must stop loudly. */
export async function runHub (config: HubConfig, log: Log, fatal: (why: string, detail: unknown) => void): Promise<RunningHub> {
  // Startup stages with the ms since the process started (the restart time's breakdown).
  const stage = (name: string, extra: Record<string, unknown> = {}): void => {
    log({ event: 'startup', stage: name, ms: Math.round(performance.now()), ...extra })
  }
  // The WASM curve (tiny-secp256k1): signing and point arithmetic of every commitment are 2–3× faster
  // than pure-JS noble, which took over half the hub's CPU under load (npm run bench -- --cpu-prof).
  setDefaultCurve(tinyCurve)
  log({ event: 'curve', name: tinyCurve.name })
  fs.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 })
  const cleanups: Array<() => Promise<void> | void> = []
  // The metrics first: the store's commits and the node's RPC calls report to them from the start.
  const seen: {
    manager?: ChannelManager; holds?: HoldStore; figures?: PaymentFigures; transport?: HubTransport; nodeKeys?: HubNodeKeys
  } = {}
  const metrics = new HubMetrics({
    channels: () => (seen.manager?.all() ?? []).map(ch => {
      const spec = ch.state.localCommit?.spec
      return {
        phase: ch.state.phase, capacitySat: ch.state.setup.capacitySat, localMsat: spec?.toLocalMsat ?? 0,
        remoteMsat: spec?.toRemoteMsat ?? 0, htlcs: spec?.htlcs.length ?? 0,
      }
    }),
    heldPayments: () => (seen.holds?.all() ?? []).filter(h => h.state === 'held').length,
    sessions: () => seen.transport?.sessionCount ?? 0,
    feesEarnedMsat: () => seen.figures?.figures().fees_msat ?? 0,
    nodeKey: () => {
      const k = seen.nodeKeys?.status()
      return { current: k?.current ?? '', phase: k?.phase ?? 'single', graceUntilHeight: k?.grace_until_height ?? null }
    },
  })
  cleanups.push(setHostObserver(metrics.host))

  // The store first: its lock refuses a second hub on this data dir before it starts a node there.
  const store = await LevelStore.open(path.join(config.dataDir, 'store'))
  cleanups.push(() => store.close())

  // ── chain ──
  let managed: ManagedBtcd | undefined
  let chain: BtcdChainBackend
  if (config.btcd.mode === 'managed') {
    managed = await startManagedBtcd(config.dataDir, log)
    chain = managed.backend()
  } else {
    chain = new BtcdChainBackend({ host: config.btcd.host, port: config.btcd.port, user: config.btcd.user, pass: config.btcd.pass })
  }
  cleanups.push(async () => { await chain.close(); await managed?.stop() })
  const chainHash = await chainHashOf(chain)
  if (!chainHash.ok) throw new Error(`chain: cannot read the genesis block (${chainHash.error.detail})`)
  const tip = await chain.tip()
  if (!tip.ok) throw new Error(`chain: ${tip.error.detail}`)
  let height: number = tip.value.height
  // The node keys: one, or two during a rotation's grace, which ends at a chain height (hub/identity/node-keys.ts).
  const nodeKeys = HubNodeKeys.open(config.dataDir, () => height)
  seen.nodeKeys = nodeKeys
  const hubId = nodeKeys.currentId
  stage('chain_connected')

  // ── wallet, audit log ──
  const opened = await Wallet.open({
    storage: fileWalletStorage(path.join(config.dataDir, WALLET_DIR)), chain,
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
  if (managed !== undefined && wallet.balance().total === 0) height = await mineFirstCoins(chain, wallet, log) ?? height
  const audit = await AuditLog.open(store, { now: () => Date.now(), height: () => height })
  const anchoring = await Anchoring.open({
    store, audit, chain, wallet, depth: config.audit.anchorDepth, now: () => Date.now(), height: () => height, log,
  })
  // A store restored from a backup: its channels are held until their peers prove them current.
  const restored = await RestoredChannels.load(store, log)
  const circuits = new CircuitStore(store)
  await circuits.load()
  const holds = new HoldStore(store)
  seen.holds = holds
  await holds.load()
  const payments = new PaymentFigures(store, e => fatal('store_failed', String(e)))
  seen.figures = payments
  await payments.load()
  cleanups.push(() => payments.flush())
  const payerKeys = new PayerKeys(store)
  const keyCount = await payerKeys.load()
  stage('circuits_loaded', { circuits: circuits.all().length, holds: holds.all().length, idempotency_keys: keyCount })
  // Preimages learned from now on; stored ones are looked up when a replay needs one (host/channel/record.ts).
  const preimages = new Map<string, string>()

  // ── channels, funding, router ──
  let transport: HubTransport | undefined
  const storeFailed = (e: unknown): void => fatal('store_failed', String(e))
  const shutdownScript = bytesToHex(wallet.newAddress().script)
  let monitoring: HubMonitoring | undefined
  // Each channel's last activity height rides on its own writes (hub/settlement/activity.ts).
  const activity = new ChannelActivity(store, () => height)
  const manager = new ChannelManager({
    store, audit, config, chainHash: chainHash.value, log, carry: req => activity.carry(req),
    persisted: (id, updates) => { monitoring?.persisted(id, updates) },
    blocked: id => monitoring?.stale.has(id) === true,
    forgetMonitor: async id => { await monitoring?.forget(id) },
    shutdownScript: () => shutdownScript,
    session: peer => transport?.session(peer),
    height: () => height,
    fatal: storeFailed,
    holdSessionsUntilReady: true,
  })
  seen.manager = manager
  const funding = new Funding({ manager, wallet, chain, config, log })
  const inbound = new InboundChannels({ manager, config, log })
  const receipts = new HubReceipts({
    store, audit, anchoring, send: (peer, msg) => manager.send(peer, msg), log,
    // Receipts are signed by the current node key and name it (a rotation changes it).
    get hubId () { return nodeKeys.currentId }, get nodeKey () { return nodeKeys.currentSecret },
  })
  const ledger = new Ledger(store)
  const router = new Router({
    hubIds: () => nodeKeys.servedIds(), manager, circuits, holds, payerKeys, config, preimages, log, fatal: storeFailed, receipts, ledger,
    lookupPreimage: hash => loadPreimage(store, hash),
    height: () => height,
    openChannel: peer => inbound.openOnPayment(peer),
    onPayment: e => { metrics.payment(e, payments.record(e)?.latency_ms) },
  })
  const closer = new CloseBroadcaster(chain, log)
  const splicing = new HubSplicing({
    manager, wallet, chain, config, log, hubIdFor: peer => transport?.session(peer)?.hubId ?? nodeKeys.currentId,
  })
  cleanups.push(() => splicing.stop())
  manager.listen(funding)
  manager.listen(inbound)
  manager.listen(router)
  manager.listen(closer)
  manager.listen(splicing)
  const accountChainMoves = new AccountChainMoves(ledger, log)
  manager.listen(accountChainMoves)
  /** A force-closed channel's rows of what the chain did with it, from its monitor's state (read
   *  after the monitor's step that reported it). */
  const onchainRows = async (channelId: string): Promise<void> => {
    const ch = manager.get(channelId)
    const state = ch === undefined ? undefined : await monitoring?.host.inspect(channelId)
    if (ch !== undefined && state !== undefined) await accountChainMoves.onchain(ch, state)
  }
  manager.listen({
    event: () => {},
    receiptRequest: (peer, msg) => {
      receipts.request(peer, msg.payment_hash).catch(e => { log({ event: 'receipt_request_failed', peer, error: String(e) }) })
    },
  })
  manager.listen(new SplitRelay({ manager, circuits, router, log }))
  // Payout policies and batches (docs/DESIGN.md "Batched settlement").
  const policies = new PolicyStore(store, config.settlement.policy)
  manager.listen(new AccountPolicies({
    policies, bounds: config.settlement.policy, height: () => height, isAccount: peer => isChannelPartner(manager, peer),
    send: (peer, msg) => { manager.send(peer, msg) }, log,
    fatal: storeFailed,
  }))
  const idleCloses = await IdleCloses.open({ store, manager, log, fatal: storeFailed })
  manager.listen(idleCloses)
  const settlement = await SettlementCoordinator.open({
    store, manager, chain, policies, anchoring, config: config.settlement, height: () => height, log,
    lastActivityHeight: id => activity.lastActivityHeight(id), idleCloses,
    hubIdFor: peer => transport?.session(peer)?.hubId ?? nodeKeys.currentId,
    ended: b => { metrics.settlementBatch(b) },
  })
  manager.listen(settlement)
  manager.listen({ event: (ch, ev) => { restored.event(ch.channelId, ev) } })

  // ── network, early: peers connect and prove their keys while the hub loads; the manager holds
  // their sessions until it is ready (ChannelManager.ready), so a client's first retry succeeds. ──
  const { tls: tlsFiles, ...transportConfig } = config.transport
  const certificate = tlsFiles === undefined ? undefined : loadCertificatePair(tlsFiles, Date.now())
  if (certificate !== undefined && !certificate.ok) throw new Error(`transport.tls: ${certificate.error}`)
  const served = transport = await HubTransport.start({
    keyRing: nodeKeys, handler: manager, config: transportConfig, isKnownPeer: id => isChannelPartner(manager, id),
    onRejectedFrame: reason => { metrics.rejectedFrame(reason) },
    ...(certificate?.ok === true ? { tls: { cert: certificate.pair.cert, key: certificate.pair.key } } : {}),
  })
  seen.transport = transport
  nodeKeys.attach({
    announce: msg => {
      log({ event: 'node_key_announced', seq: msg.seq, sessions: served.announce(msg) })
      // The operator's timeline: every change of the hub's key, signed, in the hash-chained audit log.
      const { type: _type, kind: change, ...rotation } = msg
      audit.append({ kind: 'node_key_rotation', change, ...rotation }).catch(storeFailed)
    },
    retired: id => {
      log({ event: 'node_key_retired', old_id: id, sessions_ended: served.endSessionsUnder(id, 'the hub no longer serves this node key') })
    },
    log,
  })
  stage('transport_listening', certificate?.ok === true ? { tls_fingerprint256: certificate.pair.fingerprint256 } : {})
  const inputs: Array<() => Promise<void> | void> = [() => transport?.close(), () => router.stop()]
  let rotation: CertificateRotation | undefined
  if (tlsFiles !== undefined && certificate?.ok === true) {
    const watching = rotation = new CertificateRotation({
      files: tlsFiles, current: certificate.pair, log, sessions: () => served.sessionCount,
      install: pair => { served.setSecureContext({ cert: pair.cert, key: pair.key }) },
    })
    inputs.push(() => { watching.stop() })
  }

  const loaded = await manager.load()
  await activity.load(manager.all())
  await accountChainMoves.rebuild(manager.all())
  stage('channels_loaded', { channels: loaded })
  await restored.releaseResolved(manager.all().map(ch => ({ channelId: ch.channelId, phase: ch.state.phase })))
  const lost = await lostFunding(chain, manager.all())
  if (lost !== undefined) fatal('chain_wiped', lost)
  stage('funding_checked')
  await router.reconcile()
  stage('reconciled')
  // Chain monitors of every channel (BOLT #5): catch up on the blocks missed while down first. They
  // also tell which channels are stale (scenario 6), which must not run: only then are peers served.
  monitoring = await HubMonitoring.start({
    store, chain, manager, router, circuits, log, fatal,
    sweepScript: bytesToHex(wallet.newAddress().script),
    depth: config.channels.finalityDepth, feeratePerKw: config.channels.feeratePerKw,
    held: id => restored.held(id),
    resolvedOnChain: id => {
      onchainRows(id).catch(e => { log({ event: 'ledger_chain_not_recorded', channel_id: id, detail: String(e) }) })
    },
  })
  const monitors = monitoring
  cleanups.push(() => monitors.stop())
  // What the chain did with failed channels whose rows a stop kept from being written.
  for (const ch of manager.all()) if (ch.state.phase === 'failed' || ch.state.phase === 'closed') await onchainRows(ch.channelId)
  stage('monitors_started', { monitors: monitors.host.channels().length })
  manager.ready()
  stage('serving')

  // Anchors reach depth (or are broadcast again) off the block path: they only read the chain.
  const anchorsOnBlock = (): void => { anchoring.onBlock().catch(e => { log({ event: 'audit_anchor_check_failed', error: String(e) }) }) }
  const stopFollowing = await chain.follow({
    connected: async b => {
      height = b.height; nodeKeys.onBlock(); await manager.block(height); router.block(height); await funding.onBlock()
      await splicing.onBlock(); anchorsOnBlock()
      settlement.onBlock(height).catch(e => { log({ event: 'settlement_block_failed', error: String(e) }) })
    },
    disconnected: async b => {
      height = b.height - 1; await funding.onBlock(); await splicing.onBlock(); anchorsOnBlock()
      settlement.onReorg().catch(e => { log({ event: 'settlement_block_failed', error: String(e) }) })
    },
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
    await closer.resume(manager.all())
    await splicing.resume()
    await settlement.resume()
    await anchoring.resume()
    await manager.block(height)
    await funding.onBlock()
    stage('chain_synced', { height })
  })().catch(e => { fatal('startup_failed', e instanceof Error ? e.stack ?? e.message : e) })

  const regtest: RegtestControl | undefined = managed !== undefined ? chain : undefined
  const tokens = loadAdminTokens(config.dataDir)
  const admin = await AdminServer.start({ port: config.adminPort, host: config.admin.host, tls: config.admin.tls, tokens }, {
    ...adminViews({
      get hubId () { return nodeKeys.currentId }, transport, manager, figures: payments, closer, wallet, monitoring: monitors, splicing,
      height: () => height, restored: () => restored.view(),
    }),
    ...channelCommands({ config, manager, inbound, monitoring: monitors, splicing }),
    audit: auditCommands({ audit, anchoring }),
    ...walletCommands({
      wallet, chainHash: chainHash.value,
      regtest: regtest !== undefined && managed !== undefined ? { control: regtest, coinbaseAddress: managed.miner.address } : undefined,
      faucet: chainHash.value === REGTEST_CHAIN_HASH ? new Faucet(wallet, chain) : undefined,
    }),
    ledger,
    settlement: { policies, bounds: config.settlement.policy, height: () => height, batches: settlement },
  }, { extra: [metricsRoute(metrics), dashboardRoute, tlsRotateRoute(() => rotation),
    nodeKeyRoutes(nodeKeys), backupRoute({
      store, dataDir: config.dataDir, get hubId () { return nodeKeys.currentId }, height: () => height, config, log,
    })],
  public: [dashboardPublic(tokens, config.admin.tls !== undefined)] })
  inputs.push(() => admin.close())
  writeAdminUrl(config.dataDir, admin.url)
  const stopMiner = startAutoMiner(chain, config.btcd.mode === 'managed' ? config.btcd.autoMineSeconds : undefined, log)
  if (stopMiner !== undefined) inputs.push(stopMiner)
  log({ event: 'started', channels: loaded, circuits: circuits.all().length, height })

  let stopping: Promise<void> | undefined
  return {
    hubId, wsUrl: transport.url, adminUrl: admin.url, manager, router, wallet, metrics,
    listening: {
      ...(managed !== undefined ? managedBtcdInfo(config.dataDir, managed) : {}),
      admin_token_file: path.join(config.dataDir, ADMIN_TOKEN_FILE), read_token_file: path.join(config.dataDir, READ_TOKEN_FILE),
    },
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

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  runFromCommandLine(process.argv.slice(2), runHub).catch(e => {
    process.stderr.write(`hub: ${(e as Error).stack ?? String(e)}\n`)
    process.exit(1)
  })
}
