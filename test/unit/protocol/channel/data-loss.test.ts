// The reestablish decision (BOLT #2 "Message Retransmission") over its closed set of outcomes, and
// data-loss protection (scenario 5 at the protocol level): a party restarted from an old backup is
// provably behind and never broadcasts its commitment; a peer that lies about the state is caught.
import t from 'tap'
import { decideReestablish, reestablishMessage, step } from '../../../../protocol/channel/index.ts'
import type { ChannelState } from '../../../../protocol/channel/index.ts'
import { Pair, kinds } from './fixtures/harness.ts'
import { AMOUNT, finish } from './fixtures/flow.ts'

/** A pair with a few completed payments, and a snapshot of A's store taken before the last ones. */
function withOldBackup (): { p: Pair; backup: ChannelState } {
  const p = new Pair({ seed: 71 })
  p.open()
  p.add(p.a, AMOUNT); finish(p)
  const backup = p.a.durable!
  p.add(p.a, AMOUNT); finish(p)
  p.add(p.b, AMOUNT); finish(p)
  return { p, backup }
}

t.test('decision: in sync with nothing to retransmit', t => {
  const { p } = withOldBackup()
  const o = decideReestablish(p.a.state, reestablishMessage(p.b.state, p.b.signer), p.a.signer)
  t.same(o, { kind: 'in_sync', retransmit: [] })
  t.end()
})

t.test('decision: we_are_provably_behind when the peer proves we revoked a state we lost', t => {
  const { p, backup } = withOldBackup()
  const theirs = reestablishMessage(p.b.state, p.b.signer)
  const o = decideReestablish(backup, theirs, p.a.signer)
  t.equal(o.kind, 'we_are_provably_behind')
  t.end()
})

t.test('decision: peer_lying when the secret does not match', t => {
  const { p } = withOldBackup()
  const theirs = { ...reestablishMessage(p.b.state, p.b.signer), your_last_per_commitment_secret: '42'.repeat(32) }
  t.equal(decideReestablish(p.a.state, theirs, p.a.signer).kind, 'peer_lying')
  const claims = { ...theirs, next_revocation_number: theirs.next_revocation_number + 3 }
  t.equal(decideReestablish(p.a.state, claims, p.a.signer).kind, 'peer_lying', 'a higher revocation number without proof is a lie too')
  const huge = { ...theirs, next_revocation_number: Number.MAX_SAFE_INTEGER, next_commitment_number: Number.MAX_SAFE_INTEGER }
  t.equal(decideReestablish(p.a.state, huge, p.a.signer).kind, 'peer_lying', 'numbers beyond 48 bits are refused, not thrown on')
  t.end()
})

t.test('decision: we_may_be_behind when the peer expects a commitment we never signed', t => {
  const { p } = withOldBackup()
  const theirs = reestablishMessage(p.b.state, p.b.signer)
  const o = decideReestablish(p.a.state, { ...theirs, next_commitment_number: theirs.next_commitment_number + 2 }, p.a.signer)
  t.equal(o.kind, 'we_may_be_behind')
  t.end()
})

t.test('decision: peer_behind when the peer restarted from an old backup', t => {
  const { p } = withOldBackup()
  const theirs = reestablishMessage(p.b.state, p.b.signer)
  // B lost two revocations: it expects our revocation for an older commitment, with the matching secret.
  const old = {
    ...theirs, next_revocation_number: theirs.next_revocation_number - 2,
    your_last_per_commitment_secret: p.a.signer.perCommitmentSecret(theirs.next_revocation_number - 3),
  }
  t.equal(decideReestablish(p.a.state, old, p.a.signer).kind, 'peer_behind')
  t.equal(
    decideReestablish(p.a.state, { ...theirs, next_commitment_number: theirs.next_commitment_number - 1 }, p.a.signer).kind, 'peer_behind',
  )
  t.end()
})

t.test('data-loss protection: restarted from an old backup, A never broadcasts; B closes', t => {
  const { p, backup } = withOldBackup()
  p.disconnect()
  p.a.state = backup
  p.run(p.a, { kind: 'restored' })
  p.reconnect()
  p.deliver(p.a) // A receives B's reestablish first
  t.equal(p.a.state.phase, 'awaiting_remote_close')
  const failed = p.a.events.find(e => e.type === 'channel_failed')
  t.ok(
    failed?.type === 'channel_failed' && failed.error.reason === 'we_are_behind' && !failed.broadcastOurCommitment,
    'A must not broadcast its commitment',
  )
  t.ok(p.a.monitor.some(m => m.kind === 'do_not_broadcast'), 'and its monitor is told so, durably')
  t.notOk(p.a.monitor.some(m => m.kind === 'force_close' && m.seq > backup.monitorSeq), 'no force close from A')
  p.flush()
  t.equal(p.b.state.phase, 'failed', 'B fails the channel on A\'s error ...')
  const bFailed = p.b.events.find(e => e.type === 'channel_failed')
  t.ok(bFailed?.type === 'channel_failed' && bFailed.broadcastOurCommitment, '... and closes with its latest commitment, which pays A too')
  // A sends nothing more for good: a new connection gets only the error again.
  const again = step(
    p.a.state, { kind: 'peer', msg: { type: 'update_fee', channel_id: p.a.state.channelId, feerate_per_kw: 300 } }, p.a.signer,
  )
  t.same(kinds(again.effects), [])
  t.end()
})

t.test('a lying peer is caught at reestablish: the channel fails, our latest commitment is used', t => {
  const { p } = withOldBackup()
  p.disconnect()
  p.reconnect()
  p.toA.length = 0
  const lie = { ...reestablishMessage(p.b.state, p.b.signer), your_last_per_commitment_secret: '42'.repeat(32) }
  p.run(p.a, { kind: 'peer', msg: lie })
  t.equal(p.a.state.phase, 'failed')
  const f = p.a.events.find(e => e.type === 'channel_failed')
  t.ok(f?.type === 'channel_failed' && f.error.reason === 'peer_lying' && f.broadcastOurCommitment)
  t.end()
})

t.test('recv channel_reestablish (next_commitment_number it cannot prove): nothing changes, a warning and a disconnect; an honest reestablish heals', t => {
  const { p } = withOldBackup()
  p.disconnect()
  p.reconnect()
  p.toA.length = 0
  const writes = p.a.writesDone
  const honest = reestablishMessage(p.b.state, p.b.signer)
  const effects = p.run(p.a, { kind: 'peer', msg: { ...honest, next_commitment_number: honest.next_commitment_number + 5 } })
  t.same(kinds(effects), ['send:warning', 'disconnect'], 'a warning and a disconnect, nothing else')
  const warning = effects.find(e => e.kind === 'send')
  t.match(
    warning?.kind === 'send' && warning.msg.type === 'warning' ? warning.msg.data : '', /^we_may_be_behind: next_commitment_number/,
    'the warning names the unproven claim',
  )
  t.equal(p.a.writesDone, writes, 'no write: no do_not_broadcast, no force_close')
  t.notOk(p.a.monitor.some(m => m.kind === 'do_not_broadcast'), 'the monitor may still broadcast our latest commitment')
  t.equal(p.a.state.phase, 'normal', 'the channel is still normal (link down)')
  p.reconnect()
  p.flush()
  t.same([p.a.state.link, p.b.state.link], ['up', 'up'], 'an honest reestablish afterwards is in sync')
  p.add(p.a, AMOUNT); finish(p)
  t.same(p.check(), [], 'and the channel carries payments again')
  t.end()
})
