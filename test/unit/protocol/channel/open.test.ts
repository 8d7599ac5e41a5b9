// Channel establishment: open_channel / accept_channel receiver rules (BOLT #2 "Channel
// Establishment v1"), and a funding_created with a bad signature.
import t from 'tap'
import { acceptChannel, bolt3Signer, defaultPolicy, fundingAsAgreed, openChannel } from '../../../../protocol/channel/index.ts'
import type { ChannelId, Msat, Sat } from '../../../../protocol/types.ts'
import type { OpenChannel } from '../../../../protocol/wire/index.ts'
import { CHAIN_HASH, P2WPKH_A, P2WPKH_B, Pair, makeKeys, rng } from './fixtures/harness.ts'

const r = rng(91)
const ka = makeKeys(r)
const kb = makeKeys(r)
const open = openChannel({
  temporaryChannelId: '01'.repeat(32) as ChannelId, chainHash: CHAIN_HASH, channelType: 'static_remotekey', fundingSat: 1_000_000 as Sat,
  pushMsat: 0 as Msat, feeratePerKw: 253, local: ka.params, policy: defaultPolicy(), localShutdownScript: P2WPKH_A, height: 100,
}, ka.signer).effects.find(e => e.kind === 'send')!
const msg = (open.kind === 'send' ? open.msg : undefined) as OpenChannel
const accept = (m: OpenChannel) => acceptChannel(
  { chainHash: CHAIN_HASH, minimumDepth: 3, local: kb.params, policy: defaultPolicy(), localShutdownScript: P2WPKH_B, height: 100 }, m,
  kb.signer,
)
const refused = (m: OpenChannel): string | undefined => { const x = accept(m); return x.ok ? undefined : x.error.reason }

t.test('a valid open_channel is accepted', t => {
  t.equal(refused(msg), undefined)
  t.end()
})

const cases: Array<[string, Partial<OpenChannel>, string]> = [
  ['chain_hash of another chain', { chain_hash: '00'.repeat(32) }, 'wrong_chain'],
  ['push_msat above the funding', { push_msat: 1_000_000_001 as Msat }, 'push_exceeds_funding'],
  ['funding below our minimum', { funding_satoshis: 10_000 as Sat }, 'funding_out_of_range'],
  ['to_self_delay unreasonably large', { to_self_delay: 5000 }, 'to_self_delay_too_large'],
  ['max_accepted_htlcs above 483', { max_accepted_htlcs: 484 }, 'max_accepted_htlcs_out_of_range'],
  ['feerate too low', { feerate_per_kw: 100 }, 'feerate_out_of_range'],
  ['dust limit below 354 sat', { dust_limit_satoshis: 353 as Sat }, 'dust_limit_out_of_range'],
  ['dust limit above the reserve', { dust_limit_satoshis: 20_000 as Sat }, 'reserve_out_of_range'],
  ['funding_pubkey not on the curve', { funding_pubkey: '02' + 'ff'.repeat(32) }, 'invalid_field'],
  [
    'funder cannot pay the first commitment fee', { funding_satoshis: 30_000 as Sat, push_msat: 29_900_000 as Msat },
    'funding_out_of_range',
  ],
]
for (const [name, change, reason] of cases) {
  t.test(`recv open_channel (${name})`, t => {
    t.equal(refused({ ...msg, ...change }), reason)
    t.end()
  })
}

t.test('recv funding_created with a bad signature: the acceptor forgets the channel, stores nothing', t => {
  const p = new Pair({ seed: 92 })
  p.flush()
  p.run(p.a, { kind: 'command', cmd: { type: 'funding_built', txid: 'cd'.repeat(32) as never, outputIndex: 0 } })
  const fc = p.toB.shift()
  if (fc?.type !== 'funding_created') throw new Error('expected funding_created')
  p.run(p.b, { kind: 'peer', msg: { ...fc, signature: '11'.repeat(64) } })
  t.equal(p.b.state.phase, 'failed')
  t.equal(p.b.writesDone, 0, 'nothing was funded, nothing stored')
  t.same(p.toA.map(m => m.type), ['error'])
  t.end()
})

t.test('the signer is deterministic: the same keys give the same signatures', t => {
  const s1 = bolt3Signer({
    fundingPrivkey: new Uint8Array(32).fill(1), htlcBasepointSecret: new Uint8Array(32).fill(2),
    perCommitmentSeed: new Uint8Array(32).fill(3),
  })
  t.equal(s1.perCommitmentPoint(0), s1.perCommitmentPoint(0))
  t.ok(s1.secretMatchesPoint(s1.perCommitmentSecret(7), s1.perCommitmentPoint(7)))
  t.notOk(s1.secretMatchesPoint(s1.perCommitmentSecret(7), s1.perCommitmentPoint(8)))
  t.end()
})

t.test('disconnect after funding_signed, before channel_ready: reestablish retransmits channel_ready', t => {
  const p = new Pair({ seed: 93 })
  p.flush()
  p.run(p.a, { kind: 'command', cmd: { type: 'funding_built', txid: 'ef'.repeat(32) as never, outputIndex: 0 } })
  p.flush()
  p.run(p.a, { kind: 'chain', event: fundingAsAgreed(p.a.state.setup, 3) }) // A sends channel_ready ...
  p.disconnect()                                                           // ... which is lost
  p.run(p.b, { kind: 'chain', event: fundingAsAgreed(p.b.state.setup, 3) })
  p.reconnect()
  p.flush()
  t.equal(p.a.state.phase, 'normal')
  t.equal(p.b.state.phase, 'normal')
  t.same(p.check(), [])
  const h = p.add(p.a, 1_000_000)
  t.ok(h.ok, 'payments flow')
  t.end()
})
