// The turn-based exchange of BOLT #2 "Interactive Transaction Construction": "The *initiator*
// initiates the interactive transaction construction protocol with `tx_add_input`. The
// *non-initiator* responds with any of `tx_add_input`, `tx_add_output`, `tx_remove_input`,
// `tx_remove_output`, or `tx_complete`. The protocol continues with the synchronous exchange of
// interactive transaction protocol messages until both nodes have sent and received a consecutive
// `tx_complete`."
//
// Each side answers every message with exactly one: its next input or output, else tx_complete. We
// never remove what we added, so our side of the exchange is the queue startNegotiation builds.
// Every receiver rule that can be checked on one message is checked here, quoted above its branch;
// the rules on the whole transaction run when it is complete (complete.ts).
import { channelError, type ChannelError } from '../errors.ts'
import { MAX_INTERACTIVE_INPUT_SEQUENCE, MAX_INTERACTIVE_TX_ADDS } from '../limits.ts'
import { MAX_SAT, type ChannelId, type Sat } from '../types.ts'
import type { TxAddInput, TxAddOutput, TxComplete, TxRemoveInput, TxRemoveOutput } from '../wire/index.ts'
import { commitmentOfScript } from '../audit/anchor.ts'
import { checkComplete } from './complete.ts'
import { isStandardOutputScript, scriptKind, spentOutput } from './scripts.ts'
import { hasParity, serialIds } from './serial-ids.ts'
import type { InputEntry, Negotiation, NegotiationParams, OutputEntry, OwnContribution, Queued, Role } from './types.ts'
import { batchPaidFeeSat, paidFeeSat, requiredFeeSat, totalWeight } from './weight.ts'
import { feeForWeight } from '../tx/fees.ts'

export type TxConstructionMessage = TxAddInput | TxAddOutput | TxRemoveInput | TxRemoveOutput | TxComplete

/** What we send next: one of our inputs or outputs, or tx_complete. */
export type Reply = Queued | { kind: 'complete' }

export type NegotiationStep =
  | { ok: true; negotiation: Negotiation; reply?: Reply }
  | { ok: false; error: ChannelError }

/** The wire message of a reply. */
export function replyMessage (reply: Reply, channelId: ChannelId): TxAddInput | TxAddOutput | TxComplete {
  if (reply.kind === 'complete') return { type: 'tx_complete', channel_id: channelId }
  if (reply.kind === 'output') return {
    type: 'tx_add_output', channel_id: channelId, serial_id: reply.entry.serialId, sats: reply.entry.sats, script: reply.entry.script,
  }
  const i = reply.entry
  return i.shared
    ? {
      type: 'tx_add_input', channel_id: channelId, serial_id: i.serialId, prevtx: '', prevtx_vout: i.vout, sequence: i.sequence,
      shared_input_txid: i.txid,
    }
    : { type: 'tx_add_input', channel_id: channelId, serial_id: i.serialId, prevtx: i.prevtx!, prevtx_vout: i.vout, sequence: i.sequence }
}

const peerRole = (r: Role): Role => (r === 'initiator' ? 'non_initiator' : 'initiator')
const fail = (
  reason: Parameters<typeof channelError>[0], detail: string,
): NegotiationStep => ({ ok: false, error: channelError(reason, detail) })

/** Checks our own contribution and builds the queue of what we will add. The initiator's first
 *  message is returned as `reply`: it sends it at once. A contribution we cannot make is refused with
 *  an `ignore` error (a local command fails; nothing was sent). */
export function startNegotiation (params: NegotiationParams, own: OwnContribution): NegotiationStep {
  const refuse = (
    reason: Parameters<typeof channelError>[0], detail: string,
  ): NegotiationStep => ({ ok: false, error: channelError(reason, detail, 'ignore') })
  const role = params.role
  const count = own.inputs.length + own.outputs.length + (role === 'initiator' ? 2 : 0)
  const ids = own.serialIds === undefined ? serialIds(own.entropy, role, count) : fixedSerialIds(own, role)
  if (ids === undefined || ids.length !== count) return refuse('tx_serial_id_parity', 'our fixed serial ids do not fit our contribution')
  const inputs: InputEntry[] = []
  const outputs: OutputEntry[] = []
  if (role === 'initiator' && params.sharedInput !== undefined) {
    const si = params.sharedInput
    inputs.push({
      serialId: ids.shift()!, by: 'local', shared: true, txid: si.txid, vout: si.vout, sequence: MAX_INTERACTIVE_INPUT_SEQUENCE,
      valueSat: si.valueSat, script: si.script,
    })
  }
  for (const i of own.inputs) {
    const spent = spentOutput(i.prevtx, i.prevtxVout)
    if (!spent.ok) return refuse(spent.reason, `our input: ${spent.detail}`)
    // Our weight must be known to pay our share: we sign only key-path inputs.
    // A batched settlement's initiator also adds other channels' funding outputs (P2WSH 2-of-2),
    // whose witnesses its host assembles from both funding signatures; the plan paid their weight.
    const kind = scriptKind(spent.script)
    const batchFunding = params.batch !== undefined && kind === 'p2wsh'
    if (kind !== 'p2wpkh' && kind !== 'p2tr' && !batchFunding) return refuse(
      'tx_input_not_segwit', `our input ${spent.txid}:${i.prevtxVout} is ${kind}, not P2WPKH or P2TR`,
    )
    if (i.sequence > MAX_INTERACTIVE_INPUT_SEQUENCE) return refuse(
      'tx_bad_sequence', `our input sequence ${i.sequence} > ${MAX_INTERACTIVE_INPUT_SEQUENCE}`,
    )
    if (inputs.some(x => x.txid === spent.txid && x.vout === i.prevtxVout)) return refuse(
      'tx_duplicate_input', `our input ${spent.txid}:${i.prevtxVout} twice`,
    )
    inputs.push({
      serialId: ids.shift()!, by: 'local', shared: false, txid: spent.txid, vout: i.prevtxVout, sequence: i.sequence,
      valueSat: spent.valueSat, script: spent.script, prevtx: i.prevtx,
    })
  }
  if (role === 'initiator') outputs.push({
    serialId: ids.shift()!, by: 'local', shared: true, sats: params.sharedOutput.valueSat, script: params.sharedOutput.script,
  })
  for (const o of own.outputs) {
    const anchor = isBatchAnchorOutput(params, role, o, outputs)
    if (o.sats < params.dustLimitSat && !anchor) {
      return refuse('tx_output_dust', `our output of ${o.sats} sat < dust limit ${params.dustLimitSat}`)
    }
    if (!isStandardOutputScript(o.script) && !anchor) return refuse(
      'tx_output_nonstandard', `our output script ${o.script.slice(0, 20)}… is not standard`,
    )
    outputs.push({ serialId: ids.shift()!, by: 'local', shared: false, sats: o.sats, script: o.script })
  }
  const queue: Queued[] = [
    ...inputs.map(entry => ({ kind: 'input' as const, entry })), ...outputs.map(entry => ({ kind: 'output' as const, entry }))
  ]
  const n: Negotiation = { params, inputs: [], outputs: [], queue, received: { inputs: 0, outputs: 0 }, sentComplete: false, done: false }
  const mine = { params, inputs, outputs }
  // A batched settlement's initiator adds every other channel's inputs and outputs and the peer's
  // payout; the peers' contributions pay their fee shares: the whole transaction must pay the feerate.
  // A non-initiator pays its own share as in any splice.
  const wholeTx = params.batch !== undefined && role === 'initiator'
  const paid = wholeTx ? batchPaidFeeSat(mine) : paidFeeSat(mine, 'local')
  const required = wholeTx ? feeForWeight(params.feeratePerKw, totalWeight(mine)) : requiredFeeSat(mine, 'local')
  if (paid < required) return refuse(
    'insufficient_funds', `our inputs pay ${paid} sat of fee, ${required} sat needed at ${params.feeratePerKw} sat/kw`,
  )
  if (role === 'non_initiator') return { ok: true, negotiation: n }
  return { ok: true, ...nextReply(n) }
}

/** The serial ids the host fixed, in the order startNegotiation uses them (shared input, inputs,
 *  shared output, outputs), if each has our parity and none repeats among the inputs or the outputs. */
function fixedSerialIds (own: OwnContribution, role: Role): number[] | undefined {
  const f = own.serialIds!
  const inputs = role === 'initiator' ? [f.sharedInput, ...f.inputs] : f.inputs
  const outputs = role === 'initiator' ? [f.sharedOutput, ...f.outputs] : f.outputs
  const distinct = (ids: number[]): boolean => new Set(ids).size === ids.length
  if ([...inputs, ...outputs].some(id => !hasParity(id, role)) || !distinct(inputs) || !distinct(outputs)) return undefined
  return [...inputs, ...outputs]
}

/** Our answer to the peer's last message: the next of ours, or tx_complete. Taking it from the queue
 *  puts it in the transaction. */
function nextReply (n: Negotiation): { negotiation: Negotiation; reply: Reply } {
  const [next, ...rest] = n.queue
  if (next === undefined) return { negotiation: { ...n, sentComplete: true }, reply: { kind: 'complete' } }
  const added = next.kind === 'input' ? { inputs: [...n.inputs, next.entry] } : { outputs: [...n.outputs, next.entry] }
  return { negotiation: { ...n, ...added, queue: rest, sentComplete: false }, reply: next }
}

/** The peer's tx_add_*, tx_remove_* or tx_complete. */
export function receiveTxMessage (n: Negotiation, msg: TxConstructionMessage): NegotiationStep {
  if (n.done) return fail('interactive_tx_failed', `${msg.type} after the transaction was complete`)
  switch (msg.type) {
    case 'tx_add_input': return answer(addInput(n, msg))
    case 'tx_add_output': return answer(addOutput(n, msg))
    case 'tx_remove_input': return answer(remove(n, 'inputs', msg.serial_id))
    case 'tx_remove_output': return answer(remove(n, 'outputs', msg.serial_id))
    case 'tx_complete': return receiveComplete(n)
  }
}

function answer (r: { error: ChannelError } | Negotiation): NegotiationStep {
  if ('error' in r) return { ok: false, error: r.error }
  return { ok: true, ...nextReply(r) }
}

function receiveComplete (n: Negotiation): NegotiationStep {
  // Consecutive tx_complete: ours was the last message, theirs answers it.
  if (n.sentComplete) {
    const bad = checkComplete(n)
    return bad !== undefined ? { ok: false, error: bad } : { ok: true, negotiation: { ...n, done: true } }
  }
  const r = nextReply(n)
  if (r.reply.kind !== 'complete') return { ok: true, ...r }
  // Our tx_complete answers theirs: the transaction is final once we send it, so check it first.
  const bad = checkComplete(r.negotiation)
  return bad !== undefined ? { ok: false, error: bad } : { ok: true, negotiation: { ...r.negotiation, done: true }, reply: r.reply }
}

/** Rules common to tx_add_input and tx_add_output: the serial id's parity and uniqueness. */
function checkSerialId (n: Negotiation, serialId: number, inUse: ReadonlyArray<{ serialId: number }>): ChannelError | undefined {
  // BOLT #2: "the `serial_id` has the wrong parity".
  const role = peerRole(n.params.role)
  if (!hasParity(serialId, role)) return channelError(
    'tx_serial_id_parity', `serial_id ${serialId} from the ${role.replace('_', '-')} must be ${role === 'initiator' ? 'even' : 'odd'}`,
  )
  // BOLT #2: "the `serial_id` is already included in the transaction".
  if (inUse.some(e => e.serialId === serialId)) return channelError(
    'tx_serial_id_in_use', `serial_id ${serialId} is already in the transaction`,
  )
  return undefined
}

function addInput (n: Negotiation, m: TxAddInput): { error: ChannelError } | Negotiation {
  const received = { ...n.received, inputs: n.received.inputs + 1 }
  // BOLT #2: "if has received 4096 `tx_add_input` messages during this negotiation".
  if (received.inputs >= MAX_INTERACTIVE_TX_ADDS) return {
    error: channelError('tx_too_many_messages', `${received.inputs} tx_add_input messages`)
  }
  const bad = checkSerialId(n, m.serial_id, n.inputs)
  if (bad !== undefined) return { error: bad }
  // BOLT #2: "`sequence` is set to `0xFFFFFFFE` or `0xFFFFFFFF`".
  if (m.sequence > MAX_INTERACTIVE_INPUT_SEQUENCE) return {
    error: channelError('tx_bad_sequence', `sequence ${m.sequence} does not signal replaceability`)
  }
  const shared = n.params.sharedInput
  let entry: InputEntry
  if (m.prevtx.length === 0) {
    // BOLT #2: "if `prevtx_len` is `0`: `shared_input_txid` is not set; `shared_input_txid` and
    // `prevtx_vout` don't match the previous funding output; a previously added (and not removed)
    // input already exists with `shared_input_txid` set".
    if (m.shared_input_txid === undefined) return { error: channelError('tx_bad_prevtx', 'empty prevtx without shared_input_txid') }
    if (shared === undefined || m.shared_input_txid !== shared.txid || m.prevtx_vout !== shared.vout) {
      return { error: channelError(
        'splice_shared_input_invalid', `shared input ${m.shared_input_txid}:${m.prevtx_vout} is not the current funding output`,
      ) }
    }
    if (n.inputs.some(i => i.shared)) return { error: channelError('splice_shared_input_invalid', 'a second shared input') }
    // BOLT #2 (splice): "If it is the splice initiator: MUST add the current channel input".
    if (n.params.role === 'initiator') return {
      error: channelError('splice_shared_input_invalid', 'the shared input added by the non-initiator')
    }
    entry = {
      serialId: m.serial_id, by: 'remote', shared: true, txid: shared.txid, vout: shared.vout, sequence: m.sequence,
      valueSat: shared.valueSat, script: shared.script,
    }
  } else {
    if (m.shared_input_txid !== undefined) return { error: channelError('splice_shared_input_invalid', 'shared_input_txid with a prevtx') }
    const spent = spentOutput(m.prevtx, m.prevtx_vout)
    if (!spent.ok) return { error: channelError(spent.reason, spent.detail) }
    entry = {
      serialId: m.serial_id, by: 'remote', shared: false, txid: spent.txid, vout: m.prevtx_vout, sequence: m.sequence,
      valueSat: spent.valueSat, script: spent.script, prevtx: m.prevtx,
    }
  }
  // BOLT #2: "`prevtx` and `prevtx_vout` are identical to a previously added (and not removed) input".
  if (n.inputs.some(i => i.txid === entry.txid && i.vout === entry.vout)) return {
    error: channelError('tx_duplicate_input', `input ${entry.txid}:${entry.vout} is already in the transaction`)
  }
  return { ...n, received, inputs: [...n.inputs, entry] }
}

function addOutput (n: Negotiation, m: TxAddOutput): { error: ChannelError } | Negotiation {
  const received = { ...n.received, outputs: n.received.outputs + 1 }
  // BOLT #2: "it has received 4096 `tx_add_output` messages during this negotiation".
  if (received.outputs >= MAX_INTERACTIVE_TX_ADDS) return {
    error: channelError('tx_too_many_messages', `${received.outputs} tx_add_output messages`)
  }
  const bad = checkSerialId(n, m.serial_id, n.outputs)
  if (bad !== undefined) return { error: bad }
  // BOLT #2: "the `sats` amount is less than the `dust_limit`"; "is greater than 2,100,000,000,000,000
  // (`MAX_MONEY`)".
  const anchor = isBatchAnchorOutput(n.params, n.params.role === 'initiator' ? 'non_initiator' : 'initiator', m, n.outputs)
  if (m.sats < n.params.dustLimitSat && !anchor) return {
    error: channelError('tx_output_dust', `output of ${m.sats} sat < dust limit ${n.params.dustLimitSat}`)
  }
  if (m.sats > MAX_SAT) return { error: channelError('tx_output_too_large', `output of ${m.sats} sat > MAX_MONEY`) }
  if (!isStandardOutputScript(m.script) && !anchor) return {
    error: channelError('tx_output_nonstandard', `output script ${m.script.slice(0, 20)}… is not standard`)
  }
  // The new funding output is the shared one: the initiator adds it (BOLT #2 splice tx_add_output:
  // "If it is the splice initiator: MUST send at least one `tx_add_output`, which contains the new
  // channel's funding output").
  const shared = m.script === n.params.sharedOutput.script
  if (shared && n.params.role === 'initiator') return {
    error: channelError('splice_funding_output_invalid', 'the new funding output added by the non-initiator')
  }
  const entry: OutputEntry = { serialId: m.serial_id, by: 'remote', shared, sats: m.sats as Sat, script: m.script }
  return { ...n, received, outputs: [...n.outputs, entry] }
}

function remove (n: Negotiation, what: 'inputs' | 'outputs', serialId: number): { error: ChannelError } | Negotiation {
  // BOLT #2 (tx_remove_*, receiver): "the input or output identified by the `serial_id` was not added
  // by the sender; the `serial_id` does not correspond to a currently added input (or output)".
  const entry = (n[what] as ReadonlyArray<{ serialId: number; by: string }>).find(e => e.serialId === serialId)
  if (entry === undefined) return { error: channelError('tx_unknown_serial_id', `no ${what.slice(0, -1)} with serial_id ${serialId}`) }
  if (entry.by !== 'remote') return { error: channelError('tx_unknown_serial_id', `${what.slice(0, -1)} ${serialId} was added by us`) }
  return what === 'inputs' ? { ...n, inputs: n.inputs.filter(e => e.serialId !== serialId) } : {
    ...n, outputs: n.outputs.filter(e => e.serialId !== serialId),
  }
}

/**
 * The one exception to the dust rule: the audit anchor a batched settlement carries
 * (docs/DESIGN.md "Batched settlement"). BOLT #2 (tx_add_output receiver): "MUST fail the negotiation
 * if: ... the `sats` amount is less than the `dust_limit`"; its rationale: "`script`s are not required
 * to follow standardness rules: non-standard scripts such as `OP_RETURN` may be accepted, but the
 * corresponding transaction may fail to relay across the network." A zero-value OP_RETURN is not dust
 * (relay policy exempts null data: it can never be spent), and it costs neither side anything but its
 * bytes, which the batch's fee rule charges to every payout alike. So it is taken only in a batch
 * session (both sides agreed the batch terms), only from the initiator (the hub), only with value 0,
 * only as the anchor's exact script (protocol/audit/anchor.ts), and at most once per transaction
 * (nodes relay one null-data output per transaction). Any other output below the dust limit still
 * fails the negotiation.
 */
function isBatchAnchorOutput (
  params: NegotiationParams, sender: Role, o: { sats: number; script: string }, added: ReadonlyArray<{ script: string }>,
): boolean {
  return params.batch !== undefined && sender === 'initiator' && o.sats === 0 && commitmentOfScript(o.script) !== null &&
    !added.some(x => commitmentOfScript(x.script) !== null)
}
