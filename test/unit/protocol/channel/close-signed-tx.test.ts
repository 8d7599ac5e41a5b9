// The channel machine keeps the agreed closing transaction (protocol/channel/closing-tx.ts): both
// signatures, stored with the agreement and carried by `closing_agreed`, so a host that restarts
// between the agreement and its broadcast still broadcasts it. The peer may sign the variant without
// outputs below its own dust limit (BOLT #3): the transaction is that variant, signed by us too.
import t, { type Test } from 'tap'
import type { SignedClosing } from '../../../../protocol/channel/index.ts'
import { fundingOutput, parseTx, verifyFundingSpend } from '../../../../protocol/tx/index.ts'
import { parseWitnessSig } from '../../../../protocol/tx/sign.ts'
import { hexToBytes, type Sat } from '../../../../protocol/types.ts'
import { Pair, P2WPKH_A, P2WPKH_B, type Party } from './fixtures/harness.ts'

/** Both signatures in the witness verify against the two funding keys; the tx spends the funding output. */
function checkSigned (t: Test, p: Party, tx: SignedClosing): void {
  const s = p.state.setup
  const funding = fundingOutput(
    s.funding!.txid, s.funding!.outputIndex, s.capacitySat, hexToBytes(s.local.fundingPubkey), hexToBytes(s.remote!.fundingPubkey),
  )
  const parsed = parseTx(tx.hex)
  t.equal(parsed.inputs.length, 1)
  t.equal(parsed.inputs[0]!.txid, s.funding!.txid, 'spends the funding tx')
  t.equal(parsed.inputs[0]!.vout, s.funding!.outputIndex, 'at the funding output')
  const witness = parsed.inputs[0]!.witness
  t.equal(witness.length, 4, '2-of-2 witness: empty, two signatures, the funding script')
  const sigs = [witness[1]!, witness[2]!].map(w => parseWitnessSig(w)!.sig64)
  const keys = [s.local.fundingPubkey, s.remote!.fundingPubkey].map(hexToBytes)
  for (const key of keys) t.ok(
    sigs.some(sig => verifyFundingSpend(parsed, funding, sig, key)), `a valid signature by ${key === keys[0] ? 'us' : 'the peer'}`,
  )
  const outputs = parsed.outputs.reduce((n, o) => n + o.valueSat, 0)
  t.equal(outputs + tx.feeSat, s.capacitySat, 'outputs + fee = capacity')
  t.equal(tx.localSat + tx.remoteSat, outputs, 'the amounts are what it pays')
}

function closed (seed: number, o: ConstructorParameters<typeof Pair>[0] = {}): Pair {
  const p = new Pair({ seed, ...o })
  p.serialize = true
  p.open()
  p.run(p.a, { kind: 'command', cmd: { type: 'shutdown' } })
  p.flush()
  return p
}

const agreedTx = (p: Party): SignedClosing | undefined => {
  const e = p.events.find(x => x.type === 'closing_agreed')
  return e?.type === 'closing_agreed' ? e.tx : undefined
}

t.test('closing_signed agreed: both sides hold the same fully signed closing tx, in the state and in closing_agreed', t => {
  const p = closed(61)
  for (const side of [p.a, p.b]) {
    t.equal(side.state.phase, 'closing')
    const tx = side.state.closing.signedTx
    t.ok(tx !== undefined, `${side.name} stores the signed closing tx`)
    if (tx === undefined) continue
    t.same(agreedTx(side), tx, `${side.name}: the event carries the same tx`)
    t.same(side.durable?.closing.signedTx, tx, `${side.name}: durable with the agreement`)
    t.equal(tx.agreedFeeSat, side.state.closing.agreedFeeSat)
    checkSigned(t, side, tx)
  }
  t.equal(p.a.state.closing.signedTx?.txid, p.b.state.closing.signedTx?.txid, 'one dust limit on both sides: one transaction')
  const tx = p.a.state.closing.signedTx!
  const outs = parseTx(tx.hex).outputs.map(o => [Buffer.from(o.script).toString('hex'), o.valueSat])
  t.same(outs.sort(), [[P2WPKH_A, tx.localSat], [P2WPKH_B, tx.remoteSat]].sort(), 'each side paid to its shutdown script')
  t.end()
})

t.test('a crash after the agreement is stored, before the host heard of it: the restart hands the closing tx to the host', t => {
  const p = new Pair({ seed: 62 })
  p.serialize = true
  p.open()
  p.run(p.a, { kind: 'command', cmd: { type: 'shutdown' } })
  // A (the funder) agrees on the closing_signed that answers its own: stall its store just then.
  for (let i = 0; i < 20 && p.a.state.phase !== 'closing'; i++) {
    if (p.toA.some(m => m.type === 'closing_signed')) p.a.stalled = true
    if (p.toA.length > 0) p.deliver(p.a)
    if (p.toB.length > 0) p.deliver(p.b)
  }
  t.equal(p.a.state.phase, 'closing', 'A agreed')
  t.equal(agreedTx(p.a), undefined, 'closing_agreed is held behind the write')
  const write = p.a.queued.shift()!
  p.commitWrite(p.a, write) // durable; the process dies before the acknowledgement releases the event
  t.ok(p.a.durable?.closing.signedTx !== undefined, 'the stored state holds the signed closing tx')
  p.crash(p.a)
  const tx = agreedTx(p.a)
  t.ok(tx !== undefined, 'restored: closing_agreed is released with the tx')
  t.same(tx, p.a.state.closing.signedTx, 'the same tx as stored')
  if (tx !== undefined) checkSigned(t, p.a, tx)
  t.end()
})

t.test('a crash after the host heard of the agreement: the restarted state still holds the closing tx to broadcast', t => {
  const p = closed(63)
  const before = p.a.state.closing.signedTx
  t.ok(before !== undefined, 'agreed')
  p.crash(p.a)
  t.equal(p.a.state.phase, 'closing')
  t.same(p.a.state.closing.signedTx, before, 'loaded from the store: the host can broadcast it (host/channel/closing.ts pendingClose)')
  t.end()
})

t.test('the peer signed the variant without our output (below its dust limit): the tx is that variant, signed by both', t => {
  // B holds 5,000 sat; its dust limit is 6,000 sat, A's 546: B's closing_signed leaves B's own output
  // out, A's keeps it. Each side's tx is the variant the other signed.
  const p = closed(
    64,
    { pushMsat: 5_000_000, b: { dustLimitSat: 6_000 as Sat, channelReserveSat: 20_000 as Sat }, a: { channelReserveSat: 20_000 as Sat } },
  )
  const a = p.a.state.closing.signedTx
  const b = p.b.state.closing.signedTx
  t.ok(a !== undefined && b !== undefined, 'both agreed')
  if (a === undefined || b === undefined) return t.end()
  t.equal(a.dustLimitSat, 6_000, 'A holds B\'s variant')
  t.equal(a.remoteSat, 0, 'without B\'s output')
  t.equal(a.trimmedRemoteSat, 5_000, 'B\'s 5,000 sat are left out')
  t.equal(b.dustLimitSat, 546, 'B holds A\'s variant')
  t.equal(b.localSat, 5_000, 'with B\'s output')
  t.not(a.txid, b.txid, 'two transactions: whichever confirms first closes the channel')
  checkSigned(t, p.a, a)
  checkSigned(t, p.b, b)
  t.end()
})
