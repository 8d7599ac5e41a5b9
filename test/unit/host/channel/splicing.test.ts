// The host side of splicing (host/channel/splicing.ts) on two real channel drivers joined in memory, a
// chain in memory and real wallets: a splice-out and a splice-in from the wallet run to splice_locked
// with the hosts answering everything the machines ask (the peer's policy, the wallet's witnesses, the
// broadcast, the depths), a refusal frees the reserved coins, the quiescence timer disconnects a peer
// that never answers, a signed splice the node forgot is broadcast again, and an RBF repeats the
// replaced splice (its payout, or its wallet coins) at the new feerate, refused by txid when it must be.
import t, { type Test } from 'tap'
import { Splicing, type SpliceAnswer, type SpliceProgress } from '../../../../host/channel/splicing.ts'
import type { ChannelDriver } from '../../../../host/channel/driver.ts'
import { Wallet } from '../../../../host/wallet/wallet.ts'
import type { WalletStorage } from '../../../../host/wallet/storage.ts'
import { parseTx } from '../../../../protocol/tx/serialize.ts'
import { p2pkh } from '../../../../protocol/tx/script.ts'
import { parseWitnessSig, verifyInput } from '../../../../protocol/tx/sign.ts'
import { DEFAULT_SPLICE_MINIMUM_DEPTH } from '../../../../protocol/limits.ts'
import { bytesToHex, hexToBytes, type Sat, type Txid } from '../../../../protocol/types.ts'
import { buildBatchTx } from '../../../../protocol/settlement/build.ts'
import { feeShares } from '../../../../protocol/settlement/plan.ts'
import { fundingScriptPubkey } from '../../../../protocol/tx/funding.ts'
import { coinTx, MemChain } from '../../../fixtures/mem-chain.ts'
import { DriverPair, type Side } from './fixtures/driver-pair.ts'

const PAYOUT = '0014' + '5a'.repeat(20)
const FEERATE = 1_000

function memoryStorage (): WalletStorage {
  let seed: Uint8Array | undefined
  let state: unknown = null
  return {
    stateName: 'memory',
    seed: fresh => { const created = seed === undefined; seed ??= fresh(); return { ok: true, seed, created } },
    readState: () => ({ ok: true, json: state }),
    writeState: json => { state = JSON.parse(json) },
  }
}

/** A side whose driver is built (after open()). */
type Chan = Side & { driver: ChannelDriver }
const ch = (s: Side): Chan => s as Chan

interface Host {
  splicing: Splicing<Chan>; wallet: Wallet; progress: SpliceProgress[]; answer: (r: unknown) => SpliceAnswer | Promise<SpliceAnswer>
}

/** Two drivers with a splicing host each (over one chain), a channel of 1,000,000 sat open, `pushSat`
 *  of it B's. */
async function setup (t: Test, opts: { pushSat?: number; quiescenceTimeoutMs?: number } = {}) {
  const chain = new MemChain()
  const hosts = new Map<Side, Host>()
  const pair: DriverPair = new DriverPair(undefined, undefined, {
    onEvent: (s, ev) => hosts.get(s)?.splicing.event(ch(s), ev),
    broadcastSplice: (s, txid, tx) => { void hosts.get(s)?.splicing.broadcast(ch(s), txid, tx) },
  })
  for (const side of [pair.a, pair.b]) {
    const opened = await Wallet.open({ storage: memoryStorage(), chain, feeRate: 2 })
    if (!opened.ok) throw new Error(JSON.stringify(opened.error))
    const host: Host = {
      wallet: opened.value, progress: [], answer: () => ({ accept: true }),
      splicing: undefined as never,
    }
    host.splicing = new Splicing<Chan>({
      chain, wallet: host.wallet,
      localNodeId: side === pair.a ? pair.nodeA : pair.nodeB,
      remoteNodeId: () => side === pair.a ? pair.nodeB : pair.nodeA,
      respond: (_ch, req) => host.answer(req),
      progress: (_ch, p) => host.progress.push(p),
      log: () => {},
      ...(opts.quiescenceTimeoutMs !== undefined ? { quiescenceTimeoutMs: opts.quiescenceTimeoutMs } : {}),
    })
    hosts.set(side, host)
    t.teardown(() => { host.splicing.stop(); host.wallet.close() })
  }
  await pair.open(1_000_000, (opts.pushSat ?? 0) * 1000)
  return { chain, pair, a: hosts.get(pair.a)!, b: hosts.get(pair.b)! }
}

/** Mines blocks, each reported to both hosts, until `pred` holds. */
async function mineUntil (x: { chain: MemChain; pair: DriverPair; a: Host; b: Host }, pred: () => boolean, max = 20): Promise<void> {
  for (let i = 0; i < max && !pred(); i++) {
    await x.chain.mine(1)
    await x.a.splicing.onBlock([ch(x.pair.a)])
    await x.b.splicing.onBlock([ch(x.pair.b)])
    await x.pair.until(() => x.pair.a.driver!.pending === 0 && x.pair.b.driver!.pending === 0)
  }
  if (!pred()) throw new Error('mineUntil: condition not reached')
}

const balanceSat = (s: Side): number => Math.floor(s.driver!.state.localCommit!.spec.toLocalMsat / 1000)

t.test('splice-out by B: negotiated, signed, broadcast once stored, locked at depth; the payout is on-chain', async t => {
  const x = await setup(t, { pushSat: 300_000 })
  const { chain, pair, a, b } = x
  const before = { a: balanceSat(pair.a), b: balanceSat(pair.b) }
  const started = await b.splicing.splice(ch(pair.b), { kind: 'out', amountSat: 100_000, script: PAYOUT }, FEERATE)
  t.ok(started.ok, 'the splice command is taken')
  const fee = started.ok ? started.value.feeSat : 0
  await pair.until(
    () => (pair.a.driver!.state.splice?.candidates.length ?? 0) === 1 && (pair.b.driver!.state.splice?.candidates.length ?? 0) === 1
  )
  const txid = pair.b.driver!.state.splice!.candidates[0]!.txid
  await pair.until(() => chain.mempool.has(txid))
  t.ok(pair.trace.indexOf(`B:broadcast_splice:${txid.slice(0, 8)}`) > 0, 'B\'s host broadcast it')
  const persistedBefore = pair.trace.slice(0, pair.trace.indexOf(`B:broadcast_splice:${txid.slice(0, 8)}`))
  t.ok(persistedBefore.some(x => /^B:persist:\d+:done$/.test(x)), 'after a write of B was durable')
  t.same(b.progress.map(p => p.kind).slice(0, 3), ['negotiated', 'signed', 'broadcast'], 'B hears: negotiated, signed, broadcast')
  await pair.until(() => a.progress.some(p => p.kind === 'signed'))
  t.ok(a.progress.some(p => p.kind === 'signed'), 'A (who only accepted) signed too')

  await mineUntil(x, () => pair.a.driver!.state.setup.funding!.txid === txid && pair.b.driver!.state.setup.funding!.txid === txid)
  t.ok(b.progress.some(p => p.kind === 'confirmed' && p.depth === DEFAULT_SPLICE_MINIMUM_DEPTH), 'B heard each depth up to the lock')
  t.ok(b.progress.some(p => p.kind === 'locked' && p.txid === txid), 'and the lock')
  const onChain = (await chain.getRawTransaction(txid))
  const outs = onChain.ok && onChain.value !== null ? onChain.value.tx.outputs : []
  t.same(outs.filter(o => o.scriptPubKey === PAYOUT).map(o => o.value), [100_000], 'the payout is on-chain, to the sat')
  t.equal(pair.b.driver!.state.setup.capacitySat, 1_000_000 - 100_000 - fee, 'the new capacity: less the payout and B\'s fee')
  t.equal(balanceSat(pair.b), before.b - 100_000 - fee, 'B\'s balance paid the payout and the fee')
  t.equal(balanceSat(pair.a), before.a, 'A\'s balance is untouched')
})

t.test('splice-in by A from its wallet: a confirmed coin is reserved, signed, locked, and the change comes back', async t => {
  const x = await setup(t)
  const { chain, pair, a } = x
  const coinScript = bytesToHex(a.wallet.newAddress().script)
  await chain.mine(1, [coinTx(coinScript, 500_000)])
  t.equal(a.wallet.freeCoins().length, 1, 'A\'s wallet has one confirmed coin')
  const before = balanceSat(pair.a)
  const started = await a.splicing.splice(ch(pair.a), { kind: 'in', amountSat: 200_000 }, FEERATE)
  t.ok(started.ok, 'the splice command is taken')
  t.equal(a.wallet.freeCoins().length, 0, 'the coin is reserved while the splice is negotiated')
  await pair.until(
    () => (pair.a.driver!.state.splice?.candidates.length ?? 0) === 1 && (pair.b.driver!.state.splice?.candidates.length ?? 0) === 1
  )
  const cand = pair.a.driver!.state.splice!.candidates[0]!
  const tx = parseTx(cand.signedTx!)
  const coinIn = tx.inputs.findIndex(i => i.witness.length === 2)
  t.ok(coinIn >= 0, 'the coin is an input of the splice')
  const w = tx.inputs[coinIn]!.witness
  const sig = parseWitnessSig(w[0]!)
  t.ok(
    sig !== undefined && sig.hashType === 1 && verifyInput(tx, coinIn, p2pkh(w[1]!), 500_000, sig.sig64, w[1]!),
    'signed validly, SIGHASH_ALL',
  )
  t.ok(a.wallet.pendingTxs().some(p => p.txid === cand.txid), 'the wallet holds the coin locked for the splice (durably)')
  t.equal(a.wallet.balance().locked, 500_000, 'the coin counts as locked')
  await mineUntil(x, () => pair.a.driver!.state.setup.funding!.txid === cand.txid && pair.b.driver!.state.setup.funding!.txid === cand.txid)
  t.equal(cand.capacitySat, 1_200_000, 'capacity + 200,000')
  const change = tx.outputs.find(o => bytesToHex(o.script) !== bytesToHex(tx.outputs[cand.outputIndex]!.script))
  t.ok(change !== undefined, 'there is change')
  t.equal(a.wallet.freeCoins().reduce((s, u) => s + u.value, 0), change!.valueSat, 'the change is a confirmed coin of A\'s')
  t.equal(a.wallet.pendingTxs().length, 0, 'the confirmed splice unlocked nothing else: no pending transaction left')
  t.equal(balanceSat(pair.a), before + 200_000, 'A\'s balance gained the amount')
})

t.test('the peer refuses: A hears aborted, its reserved coin is free again, no splice is left', async t => {
  const { chain, pair, a, b } = await setup(t)
  await chain.mine(1, [coinTx(bytesToHex(a.wallet.newAddress().script), 500_000)])
  b.answer = () => ({ accept: false, reason: 'no splices today' })
  const started = await a.splicing.splice(ch(pair.a), { kind: 'in', amountSat: 200_000 }, FEERATE)
  t.ok(started.ok)
  await pair.until(() => a.progress.some(p => p.kind === 'aborted'))
  t.match(a.progress.find(p => p.kind === 'aborted'), { byPeer: true, reason: /no splices today/ }, 'A hears the peer\'s reason')
  await pair.until(() => a.wallet.freeCoins().length === 1)
  t.equal(a.wallet.freeCoins().length, 1, 'the coin is free again')
  t.equal(a.wallet.pendingTxs().length, 0, 'nothing is locked')
  t.same(pair.a.driver!.state.splice?.candidates ?? [], [])
})

t.test('a peer that never answers the splice: the quiescence timer disconnects it', async t => {
  const { pair, a, b } = await setup(t, { quiescenceTimeoutMs: 200 })
  b.answer = () => new Promise<SpliceAnswer>(() => {})
  const started = await a.splicing.splice(ch(pair.a), { kind: 'out', amountSat: 50_000, script: PAYOUT }, FEERATE)
  t.ok(started.ok)
  await pair.until(() => pair.trace.includes('A:disconnect'), 200_000)
  t.ok(pair.a.sent.some(m => m.type === 'warning' || m.type === 'error'), 'A told the peer why')
  t.ok(pair.a.sent.findIndex(m => m.type === 'splice_init') >= 0, 'after its splice_init went unanswered')
})

t.test('a splice without wallet coins cannot spend more than the balance: refused with the machine\'s reason', async t => {
  const { pair, b } = await setup(t, { pushSat: 50_000 })
  const r = await b.splicing.splice(ch(pair.b), { kind: 'out', amountSat: 60_000, script: PAYOUT }, FEERATE)
  t.match(r, { ok: false, error: { kind: 'refused', error: { reason: 'splice_contribution_exceeds_balance' } } })
  const r2 = await b.splicing.splice(ch(pair.b), { kind: 'in', amountSat: 10_000 }, FEERATE)
  t.match(r2, { ok: false, error: { kind: 'insufficient_funds', availableSat: 0 } }, 'a splice-in with an empty wallet')
})

t.test('a signed splice our node does not know (dropped, or a crash before the broadcast) is broadcast again', async t => {
  const { chain, pair, b } = await setup(t, { pushSat: 300_000 })
  const started = await b.splicing.splice(ch(pair.b), { kind: 'out', amountSat: 100_000, script: PAYOUT }, FEERATE)
  t.ok(started.ok)
  await pair.until(() => (pair.b.driver!.state.splice?.candidates[0]?.signedTx !== undefined))
  const txid = pair.b.driver!.state.splice!.candidates[0]!.txid as Txid
  await pair.until(() => chain.mempool.has(txid))
  chain.drop(txid)
  const n = chain.broadcasts.length
  await b.splicing.resume([ch(pair.b)])
  t.ok(chain.mempool.has(txid), 'back in the mempool')
  t.equal(chain.broadcasts.length, n + 1, 'one broadcast')
})

/** Waits until both sides hold `n` candidates, all signed. */
async function untilCandidates (pair: DriverPair, n: number): Promise<void> {
  const signed = (s: Side): boolean => (
    s.driver!.state.splice?.candidates.length ?? 0
  ) === n && s.driver!.state.splice!.candidates.every(c => c.signedTx !== undefined)
  await pair.until(() => signed(pair.a) && signed(pair.b))
}

t.test('rbf of a splice-out: the same payout at the new feerate, its higher fee from the balance; refusals by txid', async t => {
  const x = await setup(t, { pushSat: 300_000 })
  const { chain, pair, a, b } = x
  const first = await b.splicing.splice(ch(pair.b), { kind: 'out', amountSat: 100_000, script: PAYOUT }, FEERATE)
  t.ok(first.ok)
  await untilCandidates(pair, 1)
  const c1 = pair.b.driver!.state.splice!.candidates[0]!
  t.equal(c1.initiator, 'local', 'the candidate records its initiator')
  t.same(c1.ownOutputs, [{ script: PAYOUT, sats: 100_000 }], '… and our own outputs')
  t.same(pair.a.driver!.state.splice!.candidates[0]!.ownOutputs, [], 'the peer added none')

  const peers = await a.splicing.rbf(ch(pair.a), c1.txid, FEERATE * 2)
  t.match(peers, { ok: false, error: { kind: 'refused', error: { detail: /peer's/ } } }, 'the peer cannot replace B\'s splice')
  const unknown = await b.splicing.rbf(ch(pair.b), '44'.repeat(32) as Txid, FEERATE * 2)
  t.match(unknown, { ok: false, error: { kind: 'refused', error: { detail: /no pending splice/ } } }, 'an unknown txid')
  const low = await b.splicing.rbf(ch(pair.b), c1.txid, FEERATE + 1)
  t.match(
    low, { ok: false, error: { kind: 'refused', error: { reason: 'splice_rbf_feerate_too_low' } } }, 'below 25/24: the machine\'s reason',
  )

  // The in-memory node refuses a conflicting spend (no BIP 125 replacement): it forgets the original.
  await pair.until(() => [a, b].every(h => h.progress.some(p => p.kind === 'broadcast' && p.txid === c1.txid)))
  chain.drop(c1.txid)
  const r = await b.splicing.rbf(ch(pair.b), c1.txid, FEERATE * 2)
  t.ok(r.ok, 'the RBF is taken')
  if (!r.ok) return
  t.match(r.value, { kind: 'out', amountSat: 100_000 })
  t.ok(r.value.feeSat > (first.ok ? first.value.feeSat : 0), 'a higher fee')
  t.equal(r.value.contributionSat, -(100_000 + r.value.feeSat), 'paid from the balance')
  await untilCandidates(pair, 2)
  const c2 = pair.b.driver!.state.splice!.candidates[1]!
  t.equal(c2.feeratePerKw, FEERATE * 2)
  t.same(c2.ownOutputs, [{ script: PAYOUT, sats: 100_000 }], 'the same payout')
  const replaced = await b.splicing.rbf(ch(pair.b), c1.txid, FEERATE * 4)
  t.match(replaced, { ok: false, error: { kind: 'refused', error: { detail: /replaced by/ } } }, 'the replaced txid')
  await pair.until(() => chain.mempool.has(c2.txid))

  const stored = pair.b.driver!.state.splice!.candidates[1]!
  delete (stored as { ownOutputs?: unknown }).ownOutputs
  const old = await b.splicing.rbf(ch(pair.b), c2.txid, FEERATE * 4)
  t.match(
    old, { ok: false, error: { kind: 'refused', error: { detail: /without our outputs/ } } }, 'a candidate stored without its outputs',
  )
})

t.test('rbf of a splice-in: the same wallet coin again (not reserved anew), signed for the replacement too', async t => {
  const x = await setup(t)
  const { chain, pair, a, b } = x
  await chain.mine(1, [coinTx(bytesToHex(a.wallet.newAddress().script), 500_000)])
  const coin = a.wallet.freeCoins()[0]!
  const first = await a.splicing.splice(ch(pair.a), { kind: 'in', amountSat: 200_000 }, FEERATE)
  t.ok(first.ok)
  await untilCandidates(pair, 1)
  const c1 = pair.a.driver!.state.splice!.candidates[0]!
  t.equal(a.wallet.freeCoins().length, 0, 'the coin is locked by the splice')
  // The in-memory node refuses a conflicting spend (no BIP 125 replacement): it forgets the original.
  await pair.until(() => [a, b].every(h => h.progress.some(p => p.kind === 'broadcast' && p.txid === c1.txid)))
  chain.drop(c1.txid)
  const r = await a.splicing.rbf(ch(pair.a), c1.txid, FEERATE * 3)
  t.ok(r.ok, `the RBF is taken: ${JSON.stringify(r)}`)
  if (!r.ok) return
  t.match(r.value, { kind: 'in', amountSat: 200_000, contributionSat: 200_000 })
  t.same(r.value.coins.map(c => `${c.txid}:${c.vout}`), [`${coin.txid}:${coin.vout}`], 'the same coin')
  await untilCandidates(pair, 2)
  const c2 = pair.a.driver!.state.splice!.candidates[1]!
  const tx = parseTx(c2.signedTx!)
  t.ok(tx.inputs.some(i => i.txid === coin.txid && i.vout === coin.vout), 'the replacement spends the coin')
  t.same(a.wallet.pendingTxs().map(p => p.txid).sort(), [c1.txid, c2.txid].sort(), 'the coin is locked for both, either may confirm')
  const change = tx.outputs.filter((_, i) => i !== c2.outputIndex).reduce((s, o) => s + o.valueSat, 0)
  t.equal(500_000 - 200_000 - change, r.value.feeSat, 'the change pays the higher fee')
  await mineUntil(x, () => pair.a.driver!.state.setup.funding!.txid === c2.txid && pair.b.driver!.state.setup.funding!.txid === c2.txid)
  t.equal(a.wallet.pendingTxs().length, 0, 'once the replacement confirmed, no lock is left')
  t.equal(a.wallet.freeCoins().reduce((s, u) => s + u.value, 0), change, 'the change is A\'s')
})

t.test('a batch session (hub A, peer B answering with the batch terms): the planned transaction, broadcast once released', async t => {
  const x = await setup(t, { pushSat: 300_000 })
  const { chain, pair, b } = x
  const s = pair.a.driver!.state
  const fundingScript = bytesToHex(fundingScriptPubkey(hexToBytes(s.setup.local.fundingPubkey), hexToBytes(s.setup.remote!.fundingPubkey)))
  const feeSat = feeShares([{ payoutScript: PAYOUT }], { feeratePerKw: FEERATE, extraOutputs: [] }).perPayout[0]!
  const payoutSat = 100_000
  const planned = {
    channelId: s.channelId, funding: { txid: s.setup.funding!.txid, vout: s.setup.funding!.outputIndex }, capacitySat: s.setup.capacitySat,
    payoutScript: PAYOUT, payoutSat: payoutSat as Sat, feeSat: feeSat as Sat,
    newCapacitySat: (s.setup.capacitySat - payoutSat - feeSat) as Sat, newFundingScript: fundingScript,
  }
  const batch = buildBatchTx([planned], [], 0)
  const terms = { payoutSerialId: batch.outputs[1]!.serialId, payoutScript: PAYOUT, payoutSat: payoutSat as Sat }
  b.answer = () => ({ accept: true, batch: { contributionSat: -(payoutSat + feeSat), terms } })
  await pair.a.driver!.command({
    type: 'splice', feeratePerKw: FEERATE, locktime: 0, nodeIds: { local: pair.nodeA, remote: pair.nodeB },
    contribution: {
      contributionSat: 0, inputs: [], outputs: [{ script: PAYOUT, sats: payoutSat as Sat }], entropy: '00'.repeat(32),
      serialIds: { sharedInput: 0, sharedOutput: batch.outputs[0]!.serialId, inputs: [], outputs: [terms.payoutSerialId] },
      batch: { ...terms, expect: { remoteContributionSat: -(payoutSat + feeSat), sharedOutputScript: fundingScript } },
    },
  })
  await pair.until(() => pair.a.driver!.state.splice?.session?.signing?.held === true)
  t.equal(pair.a.driver!.state.splice!.session!.signing!.candidate.txid, batch.txid, 'the session built the planned transaction')
  t.notOk(chain.mempool.has(batch.txid), 'nothing broadcast while the hub holds its commitment_signed')
  await pair.a.driver!.command({ type: 'splice_batch_release', txid: batch.txid })
  await pair.until(() => chain.mempool.has(batch.txid))
  const onChain = await chain.getRawTransaction(batch.txid)
  const outs = onChain.ok && onChain.value !== null ? onChain.value.tx.outputs : []
  t.same(outs.filter(o => o.scriptPubKey === PAYOUT).map(o => o.value), [payoutSat], 'the payout, to the sat')
  t.same(pair.b.driver!.state.splice!.candidates[0]!.contributionSat, { local: -(payoutSat + feeSat), remote: 0 }, 'B paid payout and fee')
})

t.test('a candidate of many channels (a payout batch) is looked up once per pass, and once for lookups under way', async t => {
  // The channels are as onBlock reads them: a pending candidate, a phase, a driver taking the depth.
  const chain = new MemChain()
  const tx = coinTx(PAYOUT, 50_000)
  const sent = await chain.broadcast(tx)
  if (!sent.ok) throw new Error('broadcast')
  await chain.mine(1)
  const batchTxid = sent.value
  let lookups = 0
  const counted = new Proxy(chain, {
    get: (target, prop, receiver) => prop === 'getRawTransaction'
      ? (txid: string) => { lookups++; return target.getRawTransaction(txid) }
      : Reflect.get(target, prop, receiver) as unknown,
  })
  const depths = new Map<string, number[]>()
  const channel = (id: string, txid: string): Chan => ({
    driver: {
      state: { channelId: id, phase: 'normal', splice: { candidates: [{ txid }] } },
      stoppedBy: undefined,
      chain: async (input: { type: string; depth: number }) => { depths.set(id, [...(depths.get(id) ?? []), input.depth]) },
    },
  }) as unknown as Chan
  const opened = await Wallet.open({ storage: memoryStorage(), chain, feeRate: 2 })
  if (!opened.ok) throw new Error('wallet')
  const splicing = new Splicing<Chan>({
    chain: counted, wallet: opened.value, localNodeId: '02'.padEnd(66, '1') as never, remoteNodeId: () => '02'.padEnd(66, '2') as never,
    respond: () => ({ accept: true }), progress: () => {}, log: () => {},
  })
  t.teardown(() => { splicing.stop(); opened.value.close() })
  const batch = Array.from({ length: 5 }, (_, k) => channel(`c${k}`, batchTxid))
  const other = channel('d', 'ab'.repeat(32))

  await splicing.onBlock([...batch, other])
  t.equal(lookups, 2, 'one pass: the batch once, the other candidate once')
  t.same(batch.map((_, k) => depths.get(`c${k}`)), batch.map(() => [1]), 'every channel of the batch got its depth')

  await chain.mine(1)
  lookups = 0
  await Promise.all(batch.map(c => splicing.onBlock([c])))
  t.equal(lookups, 1, 'each channel asking at once: one lookup under way, shared')
  t.same(batch.map((_, k) => depths.get(`c${k}`)), batch.map(() => [1, 2]), 'every channel got the new depth')

  lookups = 0
  await splicing.onBlock([batch[0]!])
  await splicing.onBlock([batch[1]!])
  t.equal(lookups, 2, 'a later pass looks again')
})
