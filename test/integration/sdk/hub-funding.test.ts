// The SDK checks the hub like the hub checks it (client-sdk/channels.ts), on a real btcd: a channel the
// hub opens to a client is used only once the client's own node shows the hub's funding output paying
// the 2-of-2 of both funding keys exactly the capacity; and a funding_created from the hub naming the
// outpoint of a channel the client already has is refused, that channel's records untouched.
//
// The "hub" here is a malicious one built from protocol modules: a ChannelDriver that opens the channel
// and names whatever funding it likes. The client side is the SDK's real ChannelSet over a real store,
// wallet and chain backend.
import t from 'tap'
import path from 'node:path'
import { openFromSeed, type ChannelEvent, type ChannelState } from '../../../protocol/channel/index.ts'
import { defaultPolicy } from '../../../protocol/channel/policy.ts'
import { ChannelDriver } from '../../../host/channel/index.ts'
import { nodeIdOf } from '../../../protocol/auth/signature.ts'
import { fundingScriptPubkey } from '../../../protocol/tx/index.ts'
import { bytesToHex, hexToBytes, type ChannelId, type Msat, type Sat, type Txid } from '../../../protocol/types.ts'
import type { PeerMessage } from '../../../protocol/wire/index.ts'
import { MemoryStore } from '../../../host/store/index.ts'
import { Wallet } from '../../../host/wallet/wallet.ts'
import { fileWalletStorage } from '../../../host/wallet/node/file-storage.ts'
import { ChannelSet } from '../../../client-sdk/channels.ts'
import { clientOptionsSchema } from '../../../client-sdk/options.ts'
import { useBtcd } from '../../helpers/btcd.ts'
import { randomKey, tempDir, waitFor } from '../../helpers/hub.ts'

const btc = await useBtcd(t)
const CAPACITY = 200_000

interface Outpoint { txid: Txid; outputIndex: number }

/** A client (the SDK's ChannelSet) and a hub that opens channels to it and names `funding` for each. */
async function setup (name: string): Promise<{
  client: ChannelSet; store: MemoryStore; warnings: string[]; toHub: PeerMessage[]
  hubOpens: (funding: (script: Uint8Array) => Promise<Outpoint>) => Promise<ChannelDriver>
}> {
  const dir = tempDir(name)
  const store = new MemoryStore()
  const w = await Wallet.open({ storage: fileWalletStorage(path.join(dir, 'wallet')), chain: btc.chain, feeRate: 2 })
  if (!w.ok) throw new Error(JSON.stringify(w.error))
  const hubKey = randomKey()
  const opts = clientOptionsSchema.parse({ nodeKey: randomKey(), hubUrl: 'ws://127.0.0.1:1', hubId: nodeIdOf(hubKey) })
  const warnings: string[] = []
  const toHub: PeerMessage[] = []
  const hubs: ChannelDriver[] = []
  const client = new ChannelSet(store, w.value, btc.chain, opts, {
    send: msg => {
      toHub.push(msg)
      const id = 'channel_id' in msg ? msg.channel_id : 'temporary_channel_id' in msg ? msg.temporary_channel_id : ''
      // The client's errors are recorded, not delivered: a hub that gets one fails its channel and
      // sends an `error` for its channel id, which (when it named another channel's outpoint) is the
      // id of that other channel. The hub may fail its own channels at any time; this test is about
      // what the client's refusal itself changes.
      const hub = hubs.find(h => h.state.channelId === id || h.state.temporaryChannelId === id)
      if (msg.type !== 'error') void hub?.peer(msg)
      return true
    },
    disconnect: () => {},
    event: () => {},
    warn: w => { warnings.push(w) },
  })
  await client.start()
  const genesis = await btc.chain.getBlockHash(0)
  if (!genesis.ok || genesis.value === null) throw new Error('genesis')
  const chainHash = bytesToHex(hexToBytes(genesis.value).reverse())
  if (!client.setChainHash(chainHash)) throw new Error('chain hash refused')
  t.teardown(async () => { client.stop(); w.value.close(); await store.close() })

  const hubOpens = async (funding: (script: Uint8Array) => Promise<Outpoint>): Promise<ChannelDriver> => {
    const { step: opened, signer } = openFromSeed({
      seed: randomKey(), temporaryChannelId: bytesToHex(randomKey()) as ChannelId, chainHash, channelType: 'static_remotekey',
      fundingSat: CAPACITY as Sat,
      pushMsat: 0 as Msat, feeratePerKw: 1_000, policy: defaultPolicy(), localShutdownScript: '0014' + '55'.repeat(20), height: 0,
      limits: {
        dustLimitSat: 546 as Sat, maxHtlcValueInFlightMsat: (CAPACITY * 1000) as Msat, channelReserveSat: 2_000 as Sat,
        htlcMinimumMsat: 1 as Msat, toSelfDelay: 144, maxAcceptedHtlcs: 30,
      },
    })
    const events: ChannelEvent[] = []
    const hub: ChannelDriver = new ChannelDriver(opened.state, signer, {
      persist: async () => {},
      send: msg => { void client.receive(msg) },
      broadcastFunding: () => {},
      disconnect: () => {},
      emit: ev => {
        events.push(ev)
        if (ev.type === 'funding_needed') {
          void (async () => {
            const o = await funding(fundingScriptPubkey(
              hexToBytes(ev.fundingScriptPubkeys.local), hexToBytes(ev.fundingScriptPubkeys.remote),
            ))
            await hub.command({ type: 'funding_built', txid: o.txid, outputIndex: o.outputIndex })
          })()
        }
      },
    })
    hubs.push(hub)
    await hub.start(opened)
    await waitFor(() => hub.state.phase === 'awaiting_funding_depth' || toHub.some(
      m => m.type === 'error' && m.channel_id === opened.state.temporaryChannelId
    ), 'funding_signed or a refusal')
    return hub
  }
  return { client, store, warnings, toHub, hubOpens }
}

const clientChannel = (client: ChannelSet, id: string): ChannelState | undefined => client.get(id)?.driver.state
const sentReady = (toHub: PeerMessage[], id: string): boolean => toHub.some(m => m.type === 'channel_ready' && m.channel_id === id)

t.test('the hub\'s funding pays the right script the right amount: the client sends channel_ready at its depth (control)', async t => {
  const { client, toHub, hubOpens } = await setup('sdk-funding-ok')
  const hub = await hubOpens(async script => { const f = await btc.faucet(script, CAPACITY); return { txid: f.txid, outputIndex: f.vout } })
  await btc.mine(1)
  await client.checkFundingDepths()
  await waitFor(() => sentReady(toHub, hub.channelId), 'channel_ready from the client')
  t.equal(clientChannel(client, hub.channelId)?.phase, 'awaiting_funding_depth', 'waiting only for the hub\'s channel_ready')
})

const wrong: Array<[string, (script: Uint8Array) => Promise<Outpoint>, string]> = [
  [
    'pays the 2-of-2 one satoshi less',
    async script => { const f = await btc.faucet(script, CAPACITY - 1); return { txid: f.txid, outputIndex: f.vout } },
    'funding_output_mismatch',
  ],
  ['pays another script', async () => {
    const f = await btc.faucet(hexToBytes('0014' + '66'.repeat(20)), CAPACITY); return { txid: f.txid, outputIndex: f.vout }
  }, 'funding_output_mismatch'],
  ['names a confirmed coinbase', async () => {
    const tip = await btc.chain.tip()
    const b = await btc.chain.getBlock(tip.ok ? tip.value.height : 1)
    return { txid: (b.ok ? b.value!.txs[0]!.txid : '') as Txid, outputIndex: 0 }
  }, 'funding_output_mismatch'],
  [
    'names an output index the transaction does not have',
    async script => { const f = await btc.faucet(script, CAPACITY); return { txid: f.txid, outputIndex: 7 } }, 'funding_output_missing',
  ],
]
for (const [what, funding, reason] of wrong) {
  t.test(`the hub's funding ${what}: the client abandons the channel and never sends channel_ready`, async t => {
    const { client, toHub, hubOpens } = await setup('sdk-funding-bad')
    const hub = await hubOpens(funding)
    await btc.mine(3)
    await client.checkFundingDepths()
    await waitFor(() => clientChannel(client, hub.channelId)?.phase === 'abandoned', 'abandoned')
    t.notOk(sentReady(toHub, hub.channelId), 'no channel_ready')
    const err = toHub.find(m => m.type === 'error' && m.channel_id === hub.channelId)
    t.match(err?.type === 'error' ? err.data : '', new RegExp(`^${reason}`), 'the hub is told why')
    t.notOk(hub.state.channelReady.received, "the hub never gets the client's channel_ready: the channel is never usable")
  })
}

t.test('a funding_created naming the outpoint of a channel the client has is refused; that channel and its records are untouched', async t => {
  const { client, store, toHub, hubOpens } = await setup('sdk-funding-reuse')
  const first = await hubOpens(async script => {
    const f = await btc.faucet(script, CAPACITY); return { txid: f.txid, outputIndex: f.vout }
  })
  const id = first.channelId
  const before = new Map<string, string>()
  for await (const [k, v] of store.iterate('')) before.set(k, bytesToHex(v))
  const stateBefore = JSON.stringify(clientChannel(client, id))
  const outpoint = first.state.setup.funding!
  const second = await hubOpens(async () => ({ txid: outpoint.txid, outputIndex: outpoint.outputIndex }))
  const refusal = toHub.find(m => m.type === 'error' && m.channel_id === second.state.temporaryChannelId)
  t.match(refusal?.type === 'error' ? refusal.data : '', /^channel_id_in_use/, 'the client refuses it')
  t.not(second.state.phase, 'awaiting_funding_depth', 'the client signed nothing for it (no funding_signed)')
  t.equal(JSON.stringify(clientChannel(client, id)), stateBefore, 'the id still leads to the first channel, unchanged')
  const after = new Map<string, string>()
  for await (const [k, v] of store.iterate('')) after.set(k, bytesToHex(v))
  t.same(after, before, 'nothing in the client store changed')
  t.equal(client.channels().length, 1, 'the refused channel is gone')
})
