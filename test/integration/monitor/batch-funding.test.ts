// Two channels funded by ONE transaction (a batch funding tx, as the many-channel bench client and
// LND's batch open build them: one funding output per channel) watched by one MonitorHost. The host
// finds an unloaded monitor through its funding txid; keyed by txid alone, only one of the two
// channels would be found, and a commitment spending the other's funding output would go unseen.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { tinyCurve } from '../../../protocol/crypto/tiny.ts'
import { buildFundingTx, fundingScriptPubkey, p2wpkh, txHex, txid } from '../../../protocol/tx/index.ts'
import { bytesToHex, hexToBytes, sat, type Txid } from '../../../protocol/types.ts'
import type { MonitorUpdate } from '../../../protocol/channel/index.ts'
import { MonitorHost, type MonitorEvent } from '../../../host/monitor/index.ts'
import { keys, MemoryStore, put } from '../../../host/store/index.ts'
import { tipHeight, useBtcd } from '../../helpers/btcd.ts'
import { KeyedPair, type Side } from '../../../scripts/lib/keyed-pair.ts'
import { walletCoin } from '../bolt3/fixtures/channel.ts'
import { CAPACITY, DELAY, DEPTH, FEERATE, heldCommitment, mineUntil, send, sweptTo } from './fixtures/channel.ts'

const btc = await useBtcd(t)

function privkey (): Uint8Array {
  for (;;) { const k = new Uint8Array(randomBytes(32)); if (tinyCurve.isPrivkey(k)) return k }
}

/** Opens two channels whose funding outputs are outputs of one transaction, confirmed. */
async function twoChannelsOneFundingTx (): Promise<{ pairs: KeyedPair[]; fundingTxid: Txid; vouts: number[] }> {
  const pubkeys: Array<{ a: string; b: string }> = []
  let release!: (b: { txid: Txid; hex: string; vouts: number[] }) => void
  const built = new Promise<{ txid: Txid; hex: string; vouts: number[] }>(resolve => { release = resolve })
  // The second channel's funding output is the tx's "change": exactly CAPACITY, so the coin must be
  // 2 × CAPACITY + the fee of this very shape of tx (learned from a dry build with a stand-in coin).
  const build = async (): Promise<void> => {
    const [one, two] = pubkeys as [{ a: string; b: string }, { a: string; b: string }]
    const second = fundingScriptPubkey(hexToBytes(two.a), hexToBytes(two.b))
    const params = (coin: Parameters<typeof buildFundingTx>[0]['inputs'][number]): Parameters<typeof buildFundingTx>[0] => ({
      inputs: [coin], fundingAmountSat: sat(CAPACITY), localFundingPubkey: hexToBytes(one.a), remoteFundingPubkey: hexToBytes(one.b),
      changeScript: second, feeratePerKw: FEERATE,
    })
    const dry = buildFundingTx(
      params({ txid: '11'.repeat(32) as Txid, vout: 0, valueSat: sat(2 * CAPACITY + 100_000), kind: 'p2wpkh', privkey: privkey() }),
      tinyCurve,
    )
    if (!dry.ok) throw new Error(dry.detail)
    const coin = await walletCoin(btc, 2 * CAPACITY + dry.feeSat)
    const r = buildFundingTx(params(coin), tinyCurve)
    if (!r.ok) throw new Error(r.detail)
    const secondVout = r.tx.outputs.findIndex(o => bytesToHex(o.script) === bytesToHex(second))
    if (secondVout < 0 || r.tx.outputs[secondVout]!.valueSat !== CAPACITY) throw new Error('the second funding output is not CAPACITY')
    release({ txid: r.txid, hex: txHex(r.tx), vouts: [r.funding.vout, secondVout] })
  }
  const height = await tipHeight(btc)
  const pairs = await Promise.all([0, 1].map(i => KeyedPair.open({
    seed: 900 + i, height, toSelfDelay: DELAY, pushMsat: 400_000_000, capacitySat: CAPACITY,
    fund: async pk => {
      pubkeys[i] = pk
      if (pubkeys[0] !== undefined && pubkeys[1] !== undefined) await build()
      const b = await built
      return { txid: b.txid, outputIndex: b.vouts[i]!, hex: b.hex }
    },
  })))
  const b = await built
  const sent = await btc.chain.broadcast(b.hex)
  if (!sent.ok) throw new Error(`funding: ${sent.error.kind}`)
  await btc.mine(1)
  for (const p of pairs) p.ready()
  return { pairs, fundingTxid: b.txid, vouts: b.vouts }
}

t.test('one funding tx for two channels: each unloaded monitor is found when ITS funding output is spent', async t => {
  const { pairs, fundingTxid, vouts } = await twoChannelsOneFundingTx()
  t.not(vouts[0], vouts[1], 'two funding outputs of one tx')
  const sides: Side[] = pairs.map(p => p.a)
  const ids = sides.map(s => s.state.channelId)
  t.ok(sides.every(s => s.state.setup.funding?.txid === fundingTxid), 'both channels name the same funding txid')

  const store = new MemoryStore()
  const sweep = bytesToHex(p2wpkh(tinyCurve.pubkey(privkey())))
  const events: Array<{ id: string; e: MonitorEvent }> = []
  const opened = await MonitorHost.open({
    store, chain: btc.chain, keysFor: id => sides.find(s => s.state.channelId === id)?.mkeys,
    config: { sweepScript: sweep, depth: DEPTH, feeratePerKw: FEERATE },
    onEvent: (id, e) => { events.push({ id, e }) },
    retryMs: 3_600_000, checkpointMs: 3_600_000,
  })
  if (!opened.ok) throw new Error(opened.error.detail)
  const host = opened.value
  const started = await host.start()
  if (!started.ok) throw new Error(started.error.detail)
  // As the channel host does: store each persist batch's updates, then hand them in (channel 0 first,
  // so channel 1 is the one a txid-only index would keep).
  for (const s of sides) {
    const updates: MonitorUpdate[] = s.monitor.slice()
    await store.write(updates.map(u => put(keys.monitorUpdate(s.state.channelId, u.seq), u)))
    await host.addUpdates(s.state.channelId, updates)
  }
  await btc.mine(DEPTH) // deep funding, no HTLC: nothing at stake for either
  const synced = await btc.chain.syncFollowers()
  if (!synced.ok) throw new Error(synced.error.detail)
  await host.checkpoint() // busy in this round
  await host.checkpoint() // idle for a whole round: stored and dropped
  t.equal(host.state(ids[0]!), undefined, 'channel 0\'s monitor is unloaded')
  t.equal(host.state(ids[1]!), undefined, 'channel 1\'s monitor is unloaded')

  // B of channel 0 closes alone with its latest commitment: it spends funding output vouts[0].
  const commitment = heldCommitment(pairs[0]!.b)
  t.equal(commitment.inputs[0]!.vout, vouts[0], 'the commitment spends channel 0\'s funding output')
  const toRemote = commitment.outputs.find(o => bytesToHex(o.script) === bytesToHex(p2wpkh(hexToBytes(sides[0]!.keys.paymentBasepoint))))!
  const from = await tipHeight(btc)
  await send(btc, txHex(commitment))
  await btc.mine(1)
  t.ok(
    host.state(ids[0]!)?.seen.some(s => s.txid === txid(commitment)) === true,
    'the block spending channel 0\'s funding output loads channel 0\'s monitor',
  )
  t.equal(host.state(ids[1]!), undefined, 'channel 1\'s monitor stays unloaded: its output is unspent')
  await mineUntil(btc, () => events.some(x => x.id === ids[0] && x.e.kind === 'closed'), 20)
  const swept = await sweptTo(btc, sweep, from)
  t.equal(
    swept.received + swept.fees, toRemote.valueSat,
    `A sweeps its balance on B's commitment of channel 0 (${toRemote.valueSat}): ${swept.received} + fee ${swept.fees}`,
  )
  t.notOk(events.some(x => x.id === ids[1] && x.e.kind === 'closed'), 'channel 1 is not closed')
  await host.stop()
})
