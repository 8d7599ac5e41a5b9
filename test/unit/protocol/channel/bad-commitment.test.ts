// Scenario 14: bad commitment_signed / revoke_and_ack. An invalid signature, a wrong HTLC-signature
// count, an unexpected revocation or a wrong secret: the step returns an error value (no throw), no
// revoke_and_ack is sent, the state does not advance, and the channel either drops the connection
// (and continues after reestablish) or fails cleanly.
import t from 'tap'
import { step } from '../../../../protocol/channel/index.ts'
import { CURVE_ORDER, bigIntTo32Bytes, bytesToBigInt } from '../../../../protocol/crypto/index.ts'
import { bytesToHex, hexToBytes } from '../../../../protocol/types.ts'
import type { CommitmentSigned, RevokeAndAck } from '../../../../protocol/wire/index.ts'
import { Pair, kinds } from './fixtures/harness.ts'
import { AMOUNT, finish } from './fixtures/flow.ts'

const flip = (hex: string, at = 40): string => hex.slice(0, at) + ((parseInt(
  hex.slice(at, at + 2), 16,
) ^ 1).toString(16).padStart(2, '0')) + hex.slice(at + 2)
/** The same ECDSA signature with s replaced by n − s: valid maths, but not LOW-S. */
function highS (sig: string): string {
  const b = hexToBytes(sig)
  const s = bytesToBigInt(b.slice(32))
  return bytesToHex(b.slice(0, 32)) + bytesToHex(bigIntTo32Bytes(CURVE_ORDER - s))
}

/** A has signed a commitment with one untrimmed HTLC; B has the add; the commitment_signed is returned. */
function pending (): { p: Pair; commit: CommitmentSigned } {
  const p = new Pair({ seed: 41 })
  p.open()
  p.add(p.a, AMOUNT)
  p.sign(p.a)
  p.deliver(p.b)
  const commit = p.toB.shift()
  if (commit?.type !== 'commitment_signed') throw new Error('expected commitment_signed')
  return { p, commit }
}

const cases: Array<[string, (c: CommitmentSigned) => CommitmentSigned, string]> = [
  ['invalid commitment signature', c => ({ ...c, signature: flip(c.signature) }), 'bad_signature'],
  ['high-S commitment signature', c => ({ ...c, signature: highS(c.signature) }), 'bad_signature'],
  ['invalid HTLC signature', c => ({ ...c, htlc_signatures: c.htlc_signatures.map(s => flip(s)) }), 'bad_signature'],
  ['one HTLC signature missing', c => ({ ...c, htlc_signatures: [] }), 'wrong_htlc_signature_count'],
  [
    'one HTLC signature too many', c => ({ ...c, htlc_signatures: [...c.htlc_signatures, c.htlc_signatures[0]!] }),
    'wrong_htlc_signature_count',
  ],
]

for (const [name, mutate, reason] of cases) {
  t.test(`recv commitment_signed (${name})`, t => {
    const { p, commit } = pending()
    t.equal(commit.htlc_signatures.length, 1, 'one untrimmed HTLC, one HTLC signature')
    const before = p.b.state
    const r = step(before, { kind: 'peer', msg: mutate(commit) }, p.b.signer)
    t.same(kinds(r.effects), ['send:warning', 'disconnect'], 'warning and disconnect, nothing else')
    t.notOk(r.effects.some(e => e.kind === 'send' && e.msg.type === 'revoke_and_ack'), 'no revocation sent')
    const w = r.effects[0]
    t.ok(w?.kind === 'send' && w.msg.type === 'warning' && w.msg.data.startsWith(reason), `reason ${reason}`)
    t.equal(r.state.localCommit, before.localCommit, 'our commitment did not advance')
    // The connection drops; after reestablish A retransmits the genuine commitment and all is well.
    p.run(p.b, { kind: 'peer', msg: mutate(commit) })
    t.equal(p.connected, false)
    p.reconnect()
    finish(p)
    t.same(p.check(), [], 'the channel continues')
    t.end()
  })
}

t.test('recv commitment_signed (no updates to sign)', t => {
  const p = new Pair({ seed: 42 })
  p.open()
  p.add(p.a, AMOUNT)
  p.settle()
  const last = p.a.sent.filter(m => m.type === 'commitment_signed').at(-1)!
  const r = step(p.b.state, { kind: 'peer', msg: last }, p.b.signer)
  t.same(kinds(r.effects), ['send:warning', 'disconnect'])
  t.end()
})

t.test('recv revoke_and_ack (unexpected: no commitment awaiting one)', t => {
  const p = new Pair({ seed: 43 })
  p.open()
  const rev: RevokeAndAck = {
    type: 'revoke_and_ack', channel_id: p.a.state.channelId, per_commitment_secret: '11'.repeat(32),
    next_per_commitment_point: p.a.state.remoteNextPoint!,
  }
  const r = step(p.a.state, { kind: 'peer', msg: rev }, p.a.signer)
  t.same(kinds(r.effects), ['send:warning', 'disconnect'])
  const w = r.effects[0]
  t.ok(w?.kind === 'send' && w.msg.type === 'warning' && w.msg.data.startsWith('unexpected_revocation'))
  t.end()
})

for (const [name, secret] of [
  ['wrong secret', (s: string) => flip(s, 10)],
  ['secret of another commitment', (_s: string, p: Pair) => p.b.signer.perCommitmentSecret(5)],
] as const) {
  t.test(`recv revoke_and_ack (${name}): the channel fails cleanly`, t => {
    const { p, commit } = pending()
    p.run(p.b, { kind: 'peer', msg: commit })
    const rev = p.toA.shift()
    if (rev?.type !== 'revoke_and_ack') throw new Error('expected revoke_and_ack')
    const bad = { ...rev, per_commitment_secret: secret(rev.per_commitment_secret, p) }
    const r = step(p.a.state, { kind: 'peer', msg: bad }, p.a.signer)
    t.same(kinds(r.effects), ['persist', 'send:error'], 'the failure is stored; the error leaves at once (it needs no write)')
    const persist = r.effects[0]
    t.ok(persist?.kind === 'persist' && persist.monitor.some(m => m.kind === 'force_close'), 'the monitor is told to close')
    t.equal(r.state.phase, 'failed')
    t.equal(r.state.remoteCommit, p.a.state.remoteCommit, 'the peer\'s commitment was not advanced')
    const after = step(r.state, { kind: 'persisted', writeId: r.state.writes.issued }, p.a.signer)
    t.same(kinds(after.effects), ['emit:channel_failed'], 'the host hears of it once it is stored')
    const e = after.effects[0]
    t.ok(e?.kind === 'emit' && e.event.type === 'channel_failed' && e.event.error.reason === 'bad_revocation_secret' &&
      e.event.broadcastOurCommitment)
    // A failed channel ignores everything but errors: no revocation ever leaves it.
    const later = step(after.state, { kind: 'peer', msg: commit }, p.a.signer)
    t.same(kinds(later.effects), [])
    t.end()
  })
}

t.test('recv revoke_and_ack (next_per_commitment_point not on the curve): refused, nothing thrown', t => {
  const { p, commit } = pending()
  p.run(p.b, { kind: 'peer', msg: commit })
  const rev = p.toA.shift()
  if (rev?.type !== 'revoke_and_ack') throw new Error('expected revoke_and_ack')
  const r = step(p.a.state, { kind: 'peer', msg: { ...rev, next_per_commitment_point: '02' + 'ff'.repeat(32) } }, p.a.signer)
  t.same(kinds(r.effects), ['send:warning', 'disconnect'])
  t.equal(r.state.remoteCommit, p.a.state.remoteCommit, 'nothing applied')
  t.end()
})
