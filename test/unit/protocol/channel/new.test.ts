// protocol/channel/new.ts: a channel opened or accepted from a seed. Everything follows from the seed
// and the arguments (no randomness inside); the keys on the wire are the seed's; the two sides reach
// `normal` together; a refused open_channel is an error value.
import t from 'tap'
import {
  acceptFromSeed, bolt3Signer, defaultPolicy, fundingAsAgreed, openFromSeed, step,
  type ChannelSigner, type ChannelState, type Effect,
} from '../../../../protocol/channel/index.ts'
import { sha256 } from '../../../../protocol/crypto/hash.ts'
import { channelKeys, type SideLimits } from '../../../../protocol/keys/channel.ts'
import { bytesToHex, type ChannelId, type Msat, type Sat, type Txid } from '../../../../protocol/types.ts'
import type { AcceptChannel, OpenChannel, PeerMessage } from '../../../../protocol/wire/index.ts'
import { CHAIN_HASH, P2WPKH_A, P2WPKH_B } from './fixtures/harness.ts'

const seedOf = (tag: string): Uint8Array => sha256(new TextEncoder().encode(`new-channel/${tag}`))
const LIMITS_A: SideLimits = {
  dustLimitSat: 546 as Sat, maxHtlcValueInFlightMsat: 900_000_000 as Msat, channelReserveSat: 10_000 as Sat, htlcMinimumMsat: 1 as Msat,
  toSelfDelay: 144, maxAcceptedHtlcs: 30,
}
const LIMITS_B: SideLimits = {
  dustLimitSat: 600 as Sat, maxHtlcValueInFlightMsat: 800_000_000 as Msat, channelReserveSat: 12_000 as Sat, htlcMinimumMsat: 2 as Msat,
  toSelfDelay: 100, maxAcceptedHtlcs: 40,
}
const TEMP_ID = bytesToHex(seedOf('tmp')) as ChannelId

const openArgs = (seed: Uint8Array) => ({
  seed, temporaryChannelId: TEMP_ID, chainHash: CHAIN_HASH, channelType: 'static_remotekey' as const, fundingSat: 1_000_000 as Sat,
  pushMsat: 100_000_000 as Msat, feeratePerKw: 253, limits: LIMITS_A, policy: defaultPolicy(), localShutdownScript: P2WPKH_A, height: 100,
})
const acceptArgs = (seed: Uint8Array) => ({
  seed, chainHash: CHAIN_HASH, minimumDepth: 3, limits: LIMITS_B, policy: defaultPolicy(), localShutdownScript: P2WPKH_B, height: 100,
})

function sent<T extends PeerMessage['type']> (effects: readonly Effect[], type: T): Extract<PeerMessage, { type: T }> {
  const e = effects.find(x => x.kind === 'send' && x.msg.type === type)
  if (e?.kind !== 'send') throw new Error(`no ${type} sent`)
  return e.msg as Extract<PeerMessage, { type: T }>
}

t.test('openFromSeed: open_channel carries the seed\'s keys, our limits and the arguments', t => {
  const seed = seedOf('A')
  const opened = openFromSeed(openArgs(seed))
  const keys = channelKeys(seed)
  const msg = sent(opened.step.effects, 'open_channel')
  t.equal(msg.temporary_channel_id, TEMP_ID, 'the temporary channel id is the one handed in')
  t.equal(msg.funding_pubkey, keys.fundingPubkey, 'funding key from the seed')
  t.same([msg.revocation_basepoint, msg.payment_basepoint, msg.delayed_payment_basepoint, msg.htlc_basepoint],
    [keys.revocationBasepoint, keys.paymentBasepoint, keys.delayedPaymentBasepoint, keys.htlcBasepoint], 'basepoints from the seed')
  t.equal(msg.first_per_commitment_point, bolt3Signer(keys.secrets).perCommitmentPoint(0), 'per-commitment point 0 of the seed\'s signer')
  t.same([
    msg.dust_limit_satoshis, msg.max_htlc_value_in_flight_msat, msg.channel_reserve_satoshis, msg.htlc_minimum_msat, msg.to_self_delay,
    msg.max_accepted_htlcs,
  ],
    [546, 900_000_000, 10_000, 1, 144, 30], 'our limits')
  t.same([msg.funding_satoshis, msg.push_msat, msg.feerate_per_kw], [1_000_000, 100_000_000, 253])
  t.equal(opened.keys.fundingPubkey, keys.fundingPubkey, 'the keys returned are the seed\'s')
  t.equal(opened.signer.perCommitmentPoint(7), bolt3Signer(keys.secrets).perCommitmentPoint(7), 'and so is the signer')
  t.equal(opened.step.state.phase, 'awaiting_accept')
  t.same(opened.step.state.setup.local, {
    ...LIMITS_A, fundingPubkey: keys.fundingPubkey, revocationBasepoint: keys.revocationBasepoint, paymentBasepoint: keys.paymentBasepoint,
    delayedPaymentBasepoint: keys.delayedPaymentBasepoint, htlcBasepoint: keys.htlcBasepoint,
  })
  t.end()
})

t.test('openFromSeed is a function of its arguments: the same seed gives the same channel, another seed other keys', t => {
  const one = openFromSeed(openArgs(seedOf('A')))
  const again = openFromSeed(openArgs(seedOf('A')))
  const other = openFromSeed(openArgs(seedOf('A2')))
  t.same(again.step, one.step, 'same seed and arguments: the same state and effects')
  t.not(
    sent(other.step.effects, 'open_channel').funding_pubkey, sent(one.step.effects, 'open_channel').funding_pubkey,
    'another seed: another funding key',
  )
  t.end()
})

t.test('acceptFromSeed: accept_channel carries the acceptor\'s seed keys and limits', t => {
  const open = sent(openFromSeed(openArgs(seedOf('A'))).step.effects, 'open_channel')
  const seed = seedOf('B')
  const accepted = acceptFromSeed(acceptArgs(seed), open)
  if (!accepted.ok) { t.fail(`refused: ${accepted.error.reason}`); return t.end() }
  const keys = channelKeys(seed)
  const msg: AcceptChannel = sent(accepted.value.step.effects, 'accept_channel')
  t.equal(msg.temporary_channel_id, TEMP_ID)
  t.equal(msg.funding_pubkey, keys.fundingPubkey)
  t.equal(msg.first_per_commitment_point, bolt3Signer(keys.secrets).perCommitmentPoint(0))
  t.same([
    msg.dust_limit_satoshis, msg.channel_reserve_satoshis, msg.htlc_minimum_msat, msg.to_self_delay, msg.max_accepted_htlcs,
    msg.minimum_depth,
  ], [600, 12_000, 2, 100, 40, 3])
  t.equal(accepted.value.step.state.phase, 'awaiting_funding_created')
  t.equal(accepted.value.step.state.setup.remote?.fundingPubkey, open.funding_pubkey, 'the opener\'s keys are the remote side')
  t.end()
})

t.test('acceptFromSeed refuses a bad open_channel with a reason, and creates nothing', t => {
  const open = sent(openFromSeed(openArgs(seedOf('A'))).step.effects, 'open_channel')
  const cases: Array<[string, OpenChannel, string]> = [
    ['another chain', { ...open, chain_hash: '00'.repeat(32) }, 'wrong_chain'],
    ['push above the funding', { ...open, push_msat: 1_000_000_001 as Msat }, 'push_exceeds_funding'],
  ]
  for (const [name, msg, reason] of cases) {
    const r = acceptFromSeed(acceptArgs(seedOf('B')), msg)
    t.equal(r.ok, false, `${name}: refused`)
    if (!r.ok) t.equal(r.error.reason, reason, `${name}: ${reason}`)
  }
  t.end()
})

t.test('a channel opened and accepted from seeds reaches normal on both sides', t => {
  const a = openFromSeed(openArgs(seedOf('A')))
  const b = acceptFromSeed(acceptArgs(seedOf('B')), sent(a.step.effects, 'open_channel'))
  if (!b.ok) { t.fail('refused'); return t.end() }
  const sides = [
    { state: a.step.state, signer: a.signer, inbox: [] as PeerMessage[] },
    { state: b.value.step.state, signer: b.value.signer, inbox: [] as PeerMessage[] },
  ]
  // A host, in memory: writes complete at once, sends go to the other side's inbox.
  const run = (i: 0 | 1, effects: readonly Effect[]): void => {
    for (const e of effects) {
      if (e.kind === 'persist') feed(i, { kind: 'persisted', writeId: e.writeId })
      if (e.kind === 'send') sides[1 - i]!.inbox.push(e.msg)
      if (e.kind === 'emit' && e.event.type === 'funding_needed') feed(
        i, { kind: 'command', cmd: { type: 'funding_built', txid: bytesToHex(seedOf('funding')) as Txid, outputIndex: 0 } },
      )
    }
  }
  const feed = (i: 0 | 1, input: Parameters<typeof step>[1]): void => {
    const s = sides[i]!
    const r = step(s.state, input, s.signer as ChannelSigner)
    s.state = r.state
    run(i, r.effects)
  }
  run(1, b.value.step.effects)
  const pump = (): void => {
    for (let n = 0; n < 100 && (sides[0]!.inbox.length > 0 || sides[1]!.inbox.length > 0); n++) {
      for (const i of [0, 1] as const) { const m = sides[i]!.inbox.shift(); if (m !== undefined) feed(i, { kind: 'peer', msg: m }) }
    }
  }
  pump()
  t.same(sides.map(s => s.state.phase), ['awaiting_funding_depth', 'awaiting_funding_depth'], 'funding signed both ways')
  for (const i of [0, 1] as const) feed(i, { kind: 'chain', event: fundingAsAgreed(sides[i]!.state.setup, 3) })
  pump()
  t.same(sides.map(s => s.state.phase), ['normal', 'normal'], 'both normal')
  t.equal(sides[0]!.state.channelId, sides[1]!.state.channelId, 'one channel id')
  const stateA: ChannelState = sides[0]!.state
  t.equal(stateA.setup.remote?.fundingPubkey, channelKeys(seedOf('B')).fundingPubkey, 'A knows B\'s seed key')
  t.end()
})
