// Every receiver rule of BOLT #2 "Interactive Transaction Construction" (and the splice additions):
// each bad message is refused with its reason and the `abort` action (tx_abort: the negotiation
// ends, nothing is signed). One case per rule, each starting from a fresh negotiation.
import t from 'tap'
import {
  checkComplete, receiveTxMessage, startNegotiation, type Negotiation, type NegotiationStep, type TxConstructionMessage,
} from '../../../../protocol/interactive-tx/index.ts'
import { MAX_INTERACTIVE_INPUTS_OUTPUTS, MAX_INTERACTIVE_TX_ADDS } from '../../../../protocol/limits.ts'
import { MAX_SAT } from '../../../../protocol/types.ts'
import {
  CHANNEL, FUNDING_TXID, NEW_FUNDING_SCRIPT, P2WPKH_OUT, asNonInitiator, coin, entropy, legacyPrevtx, none, spliceParams,
} from './fixtures.ts'

const channel_id = CHANNEL
const params = spliceParams({ initiator: -60_000, nonInitiator: 0 })
const shared = (serial_id = 0, over: object = {}): TxConstructionMessage => ({
  type: 'tx_add_input', channel_id, serial_id, prevtx: '', prevtx_vout: 1, sequence: 0xfffffffd, shared_input_txid: FUNDING_TXID, ...over
})
const input = (serial_id: number, c = coin(10, 80_000), over: object = {}): TxConstructionMessage => ({
  type: 'tx_add_input', channel_id, serial_id, prevtx: c.input.prevtx, prevtx_vout: c.input.prevtxVout, sequence: 0xfffffffd, ...over
})
const output = (serial_id: number, sats: number, script = P2WPKH_OUT): TxConstructionMessage => ({
  type: 'tx_add_output', channel_id, serial_id, sats: sats as never, script,
})
const complete: TxConstructionMessage = { type: 'tx_complete', channel_id }

/** B (non-initiator, contributing nothing or `own`) receives A's messages in order; returns the last step. */
function asB (messages: TxConstructionMessage[], own = none('b0')): NegotiationStep {
  let r = startNegotiation(asNonInitiator(params), own)
  for (const m of messages) {
    if (!r.ok) return r
    r = receiveTxMessage(r.negotiation, m)
  }
  return r
}

const refusals: Array<[string, TxConstructionMessage[], string]> = [
  ['an odd serial id from the initiator', [input(1)], 'tx_serial_id_parity'],
  ['a serial id already in the transaction', [shared(0), input(0)], 'tx_serial_id_in_use'],
  ['sequence 0xFFFFFFFE (not replaceable)', [input(2, undefined, { sequence: 0xfffffffe })], 'tx_bad_sequence'],
  ['sequence 0xFFFFFFFF', [input(2, undefined, { sequence: 0xffffffff })], 'tx_bad_sequence'],
  ['an empty prevtx without shared_input_txid', [input(2, undefined, { prevtx: '' })], 'tx_bad_prevtx'],
  [
    'a shared input that is not the current funding txid', [shared(0, { shared_input_txid: 'ee'.repeat(32) })],
    'splice_shared_input_invalid',
  ],
  ['a shared input at another output index', [shared(0, { prevtx_vout: 0 })], 'splice_shared_input_invalid'],
  ['a second shared input', [shared(0), shared(2)], 'splice_shared_input_invalid'],
  ['shared_input_txid together with a prevtx', [input(2, undefined, { shared_input_txid: FUNDING_TXID })], 'splice_shared_input_invalid'],
  ['a prevtx that is not a transaction', [input(2, undefined, { prevtx: '02000000' + 'ab'.repeat(40) })], 'tx_bad_prevtx'],
  ['prevtx_vout past the outputs of prevtx', [input(2, undefined, { prevtx_vout: 5 })], 'tx_bad_prevtx'],
  [
    'an input spending a non-segwit output (its txid is malleable)', [input(2, undefined, { prevtx: legacyPrevtx(), prevtx_vout: 0 })],
    'tx_input_not_segwit',
  ],
  ['the same outpoint twice', [input(2), input(4)], 'tx_duplicate_input'],
  ['an output below the dust limit', [output(2, 545)], 'tx_output_dust'],
  ['an output above MAX_MONEY', [output(2, MAX_SAT + 1)], 'tx_output_too_large'],
  ['a non-standard output script (OP_RETURN)', [output(2, 1_000, '6a0401020304')], 'tx_output_nonstandard'],
  ['a P2WSH-version program of the wrong length', [output(2, 1_000, '0015' + '11'.repeat(21))], 'tx_output_nonstandard'],
  [
    'tx_remove_input of a serial id never added', [shared(0), { type: 'tx_remove_input', channel_id, serial_id: 8 }],
    'tx_unknown_serial_id',
  ],
  [
    'tx_remove_output of a removed output',
    [output(2, 10_000), { type: 'tx_remove_output', channel_id, serial_id: 2 }, { type: 'tx_remove_output', channel_id, serial_id: 2 }],
    'tx_unknown_serial_id',
  ],
  // Completion: checked when A's tx_complete answers B's.
  [
    'no shared input at all (not exactly one input spending the current funding)', [output(0, 940_000, NEW_FUNDING_SCRIPT), complete],
    'splice_shared_input_invalid',
  ],
  [
    'a new funding output of another amount than the capacity with both contributions',
    [shared(0), output(2, 950_000, NEW_FUNDING_SCRIPT), complete], 'splice_funding_output_invalid',
  ],
  [
    'two new funding outputs', [shared(0), output(2, 940_000, NEW_FUNDING_SCRIPT), output(4, 940_000, NEW_FUNDING_SCRIPT), complete],
    'splice_funding_output_invalid',
  ],
  [
    'an output the initiator cannot pay for (outputs and contribution above its inputs)',
    [shared(0), output(2, 940_000, NEW_FUNDING_SCRIPT), output(4, 70_000), complete], 'tx_peer_underpays',
  ],
  [
    'a fee below the agreed feerate (60,000 taken, 59,900 paid out: 100 sat for its weight)',
    [shared(0), output(2, 940_000, NEW_FUNDING_SCRIPT), output(4, 59_900), complete], 'tx_peer_underpays',
  ],
]

for (const [name, messages, reason] of refusals) {
  t.test(`refused: ${name}`, t => {
    const r = asB(messages)
    t.match(r, { ok: false, error: { reason, action: 'abort' } })
    t.end()
  })
}

t.test('accepted: the same exchange with the fee paid (60,000 taken, 58,000 paid out)', t => {
  const r = asB([shared(0), output(2, 940_000, NEW_FUNDING_SCRIPT), output(4, 58_000), complete])
  t.match(r, { ok: true, negotiation: { done: true } })
  t.end()
})

t.test('refused: the shared input or the new funding output added by the non-initiator', t => {
  let a = startNegotiation(params, none('a5'))
  if (!a.ok) throw new Error('start')
  t.match(receiveTxMessage(a.negotiation, shared(1)), { ok: false, error: { reason: 'splice_shared_input_invalid' } })
  t.match(
    receiveTxMessage(a.negotiation, output(1, 940_000, NEW_FUNDING_SCRIPT)),
    { ok: false, error: { reason: 'splice_funding_output_invalid' } },
  )
  a = receiveTxMessage(a.negotiation, output(1, 10_000))
  t.ok(a.ok, 'any other output of the non-initiator is taken (it pays for it at tx_complete)')
  t.end()
})

t.test('refused: tx_remove of an input the receiver added itself', t => {
  const c = coin(11, 200_000)
  const r = asB(
    [shared(0), { type: 'tx_remove_input', channel_id, serial_id: 0 }], { inputs: [c.input], outputs: [], entropy: entropy('b6') },
  )
  t.ok(r.ok, 'removing its own input is the sender\'s right')
  let b = startNegotiation(asNonInitiator(params), { inputs: [c.input], outputs: [], entropy: entropy('b6') })
  if (!b.ok) throw new Error('start')
  b = receiveTxMessage(b.negotiation, shared(0))
  if (!b.ok) throw new Error('shared')
  const ours = b.negotiation.inputs.find(i => i.by === 'local')!
  t.match(
    receiveTxMessage(b.negotiation, { type: 'tx_remove_input', channel_id, serial_id: ours.serialId }),
    { ok: false, error: { reason: 'tx_unknown_serial_id' } },
  )
  t.end()
})

t.test(`refused: the ${MAX_INTERACTIVE_TX_ADDS}th tx_add_input of one negotiation (add and remove the same input over and over)`, t => {
  let r = startNegotiation(asNonInitiator(params), none('b7'))
  let n = 0
  for (let i = 0; r.ok; i++) {
    r = receiveTxMessage(r.negotiation, input(2 * i + 2))
    n++
    if (r.ok) r = receiveTxMessage(r.negotiation, { type: 'tx_remove_input', channel_id, serial_id: 2 * i + 2 })
  }
  t.match(r, { ok: false, error: { reason: 'tx_too_many_messages' } })
  t.equal(n, MAX_INTERACTIVE_TX_ADDS, 'the 4096th add is the one refused')
  t.end()
})

t.test(`refused at completion: more than ${MAX_INTERACTIVE_INPUTS_OUTPUTS} inputs`, t => {
  const msgs: TxConstructionMessage[] = [shared(0)]
  for (let i = 1; i <= MAX_INTERACTIVE_INPUTS_OUTPUTS; i++) msgs.push(input(2 * i, coin(1000 + i, 10_000)))
  msgs.push(output(600, 940_000, NEW_FUNDING_SCRIPT), complete)
  t.match(asB(msgs), { ok: false, error: { reason: 'tx_too_many_inputs_outputs' } })
  t.end()
})

t.test('refused at completion: an estimated weight above MAX_STANDARD_TX_WEIGHT', t => {
  const r = asB([shared(0), output(2, 940_000, NEW_FUNDING_SCRIPT)])
  if (!r.ok) throw new Error('setup')
  // Standard scripts within 252 outputs stay far below 400,000 weight units; the rule is checked on
  // the negotiation itself, as a peer with other limits might build it.
  const heavy: Negotiation = { ...r.negotiation, outputs: [...r.negotiation.outputs, ...Array.from(
    { length: 100 },
    (_, i) => ({ serialId: 10 + 2 * i, by: 'remote' as const, shared: false, sats: 1_000 as never, script: '00'.repeat(1_200) }),
  )] }
  t.match(checkComplete(heavy), { reason: 'tx_too_heavy' })
  t.end()
})

t.test('refused: any tx_* message after the transaction is complete', t => {
  const r = asB([shared(0), output(2, 940_000, NEW_FUNDING_SCRIPT), output(4, 58_000), complete])
  if (!r.ok) throw new Error('setup')
  t.match(receiveTxMessage(r.negotiation, output(6, 1_000)), { ok: false, error: { reason: 'interactive_tx_failed' } })
  t.end()
})
