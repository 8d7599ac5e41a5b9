// Fixtures for the wire tests: one valid message of every type with every optional field present, the
// kind of every field (so violations and random messages are generated per kind), and fast-check
// arbitraries of valid messages. Run directly (as tap does), it checks the fixtures themselves.
import fc from 'fast-check'
import type { z } from 'zod'
import { pathToFileURL } from 'node:url'
import { MESSAGE_SCHEMAS, MESSAGE_TYPES, type MessageType, type PeerMessage } from '../../../../protocol/wire/index.ts'
import { CHANNEL_TYPES, HTLC_FAILURE_REASONS } from '../../../../protocol/wire/channel-messages.ts'
import * as L from '../../../../protocol/limits.ts'
import { packStreamItems } from '../../../../protocol/stream/item.ts'

const hex = (bytes: number, byte = 'ab'): string => byte.repeat(bytes)
const point = (b = 'cd'): string => '02' + hex(32, b)
const RECEIPT = {
  v: 1, hub_id: point('11'), payment_hash: hex(32, '9a'), amount_msat: 50_000, fee_msat: 1_005, payer: point('22'), payee: point('33'),
  reference: 'order-7', time_ms: 1_800_000_000_000, entry: 41,
} as const
const PROOF_ENTRY = {
  n: 41, prev: hex(32, '40'), hash: hex(32, '41'), time_ms: 1_800_000_000_000, height: 800_000,
  record: { kind: 'payment', payment_hash: hex(32, '9a'), amount_msat: 50_000 },
} as const
const PROOF_ANCHOR = {
  prev_commitment: hex(32, '00'), root: hex(32, '77'), from: 40, to: 43, commitment: hex(32, '88'), txid: hex(32, '99'),
} as const

export const SAMPLES = {
  open_channel: {
    type: 'open_channel', chain_hash: hex(32, '06'), temporary_channel_id: hex(32, '11'),
    funding_satoshis: 1_000_000, push_msat: 0, dust_limit_satoshis: 354,
    max_htlc_value_in_flight_msat: 1_000_000_000, channel_reserve_satoshis: 10_000, htlc_minimum_msat: 1,
    feerate_per_kw: 253, to_self_delay: 144, max_accepted_htlcs: 483, funding_pubkey: point('01'),
    revocation_basepoint: point('02'), payment_basepoint: point('03'), delayed_payment_basepoint: point('04'),
    htlc_basepoint: point('05'), first_per_commitment_point: point('06'), channel_flags: 0,
    upfront_shutdown_script: '0014' + hex(20, '77'), channel_type: 'static_remotekey',
  },
  accept_channel: {
    type: 'accept_channel', temporary_channel_id: hex(32, '11'), dust_limit_satoshis: 546,
    max_htlc_value_in_flight_msat: 500_000_000, channel_reserve_satoshis: 10_000, htlc_minimum_msat: 1000,
    minimum_depth: 3, to_self_delay: 144, max_accepted_htlcs: 30, funding_pubkey: point('11'),
    revocation_basepoint: point('12'), payment_basepoint: point('13'), delayed_payment_basepoint: point('14'),
    htlc_basepoint: point('15'), first_per_commitment_point: point('16'),
    upfront_shutdown_script: '0020' + hex(32, '88'), channel_type: 'anchors',
  },
  funding_created: {
    type: 'funding_created', temporary_channel_id: hex(32, '11'), funding_txid: hex(32, 'f0'),
    funding_output_index: 1, signature: hex(64, '5a'),
  },
  funding_signed: { type: 'funding_signed', channel_id: hex(32, 'c1'), signature: hex(64, '5b') },
  channel_ready: { type: 'channel_ready', channel_id: hex(32, 'c1'), second_per_commitment_point: point('21') },
  update_add_htlc: {
    type: 'update_add_htlc', channel_id: hex(32, 'c1'), id: 7, amount_msat: 12_345, payment_hash: hex(32, '9a'),
    cltv_expiry: 800_000, recipient: '03' + hex(32, '44'),
    metadata: {
      stream_root: hex(32, 'aa'), split_id: hex(32, 'bb'), reference: 'order #42 — café', invoice: 'lnbcrt1u1pjq',
      push: { ephemeral_point: point('e1'), ciphertext: hex(40, 'c0'), tag: hex(32, '7a') }, idempotency_key: 'order-42',
      split_leg: {
        split_id: hex(32, 'bb'), index: 2, count: 3, payer: point('0a'), release_by: 1_800_000_000,
        secret: { ephemeral_point: point('e2'), ciphertext: hex(40, 'c2'), tag: hex(32, '7b') },
      },
    },
  },
  update_fulfill_htlc: { type: 'update_fulfill_htlc', channel_id: hex(32, 'c1'), id: 7, payment_preimage: hex(32, '0f') },
  update_fail_htlc: {
    type: 'update_fail_htlc', channel_id: hex(32, 'c1'), id: 7, reason: 'recipient_offline', detail: 'payee away',
  },
  commitment_signed: {
    type: 'commitment_signed', channel_id: hex(32, 'c1'), signature: hex(64, '31'),
    htlc_signatures: [hex(64, '32'), hex(64, '33')], funding_txid: hex(32, 'f1'),
  },
  revoke_and_ack: {
    type: 'revoke_and_ack', channel_id: hex(32, 'c1'), per_commitment_secret: hex(32, '41'),
    next_per_commitment_point: point('42'),
  },
  update_fee: { type: 'update_fee', channel_id: hex(32, 'c1'), feerate_per_kw: 2500 },
  shutdown: { type: 'shutdown', channel_id: hex(32, 'c1'), scriptpubkey: '0014' + hex(20, '66') },
  closing_signed: {
    type: 'closing_signed', channel_id: hex(32, 'c1'), fee_satoshis: 500, signature: hex(64, '51'),
    fee_range: { min_fee_satoshis: 200, max_fee_satoshis: 1000 },
  },
  channel_reestablish: {
    type: 'channel_reestablish', channel_id: hex(32, 'c1'), next_commitment_number: 5, next_revocation_number: 4,
    your_last_per_commitment_secret: hex(32, '00'), my_current_per_commitment_point: point('61'),
    next_funding: { next_funding_txid: hex(32, 'f2'), retransmit_flags: 1 },
    my_current_funding_locked: { my_current_funding_locked_txid: hex(32, 'f6'), retransmit_flags: 0 },
  },
  error: { type: 'error', channel_id: hex(32, '00'), data: 'internal error' },
  warning: { type: 'warning', channel_id: hex(32, 'c1'), data: 'fee too low' },
  ping: { type: 'ping', num_pong_bytes: 4, ignored: '0000' },
  pong: { type: 'pong', ignored: '00000000' },
  hub_hello: { type: 'hub_hello', challenge: hex(32, '71'), hub_id: point('72') },
  client_auth: { type: 'client_auth', client_id: '03' + hex(32, '73'), signature: hex(64, '74'), client_challenge: hex(32, '75') },
  hub_auth: { type: 'hub_auth', signature: hex(64, '76') },
  auth_ok: { type: 'auth_ok' },
  stfu: { type: 'stfu', channel_id: hex(32, 'c1'), initiator: true },
  start_batch: { type: 'start_batch', channel_id: hex(32, 'c1'), batch_size: 2, message_type: 132 },
  splice_init: {
    type: 'splice_init', channel_id: hex(32, 'c1'), funding_contribution_satoshis: -50_000,
    funding_feerate_perkw: 1000, locktime: 800_000, funding_pubkey: point('81'), require_confirmed_inputs: false,
  },
  splice_ack: {
    type: 'splice_ack', channel_id: hex(32, 'c1'), funding_contribution_satoshis: 0, funding_pubkey: point('82'),
    require_confirmed_inputs: true,
  },
  splice_locked: { type: 'splice_locked', channel_id: hex(32, 'c1'), splice_txid: hex(32, 'f3') },
  tx_add_input: {
    type: 'tx_add_input', channel_id: hex(32, 'c1'), serial_id: 2, prevtx: '02000000' + hex(60, '99'),
    prevtx_vout: 0, sequence: 0xfffffffd, shared_input_txid: hex(32, 'f4'),
  },
  tx_add_output: { type: 'tx_add_output', channel_id: hex(32, 'c1'), serial_id: 4, sats: 25_000, script: '0014' + hex(20, '55') },
  tx_remove_input: { type: 'tx_remove_input', channel_id: hex(32, 'c1'), serial_id: 2 },
  tx_remove_output: { type: 'tx_remove_output', channel_id: hex(32, 'c1'), serial_id: 4 },
  tx_complete: { type: 'tx_complete', channel_id: hex(32, 'c1') },
  tx_signatures: {
    type: 'tx_signatures', channel_id: hex(32, 'c1'), txid: hex(32, 'f5'),
    witnesses: [[hex(72, '30'), point('91')], []], shared_input_signature: hex(64, '92'),
  },
  tx_abort: { type: 'tx_abort', channel_id: hex(32, 'c1'), data: 'input spent' },
  tx_init_rbf: {
    type: 'tx_init_rbf', channel_id: hex(32, 'c1'), locktime: 800_001, feerate: 1_100, funding_output_contribution: -60_000,
    require_confirmed_inputs: false,
  },
  tx_ack_rbf: { type: 'tx_ack_rbf', channel_id: hex(32, 'c1'), funding_output_contribution: 0, require_confirmed_inputs: true },
  request_channel: { type: 'request_channel', funding_satoshis: 500_000 },
  hub_policy: {
    type: 'hub_policy', chain_hash: hex(32, '06'), fee_base_msat: 1000, fee_proportional_millionths: 100,
    cltv_expiry_delta: 40, funding_satoshis: 1_000_000, minimum_depth: 1,
  },
  payment_held: {
    type: 'payment_held', channel_id: hex(32, 'c1'), id: 7, payment_hash: hex(32, '9a'), until_time: 1_800_000_000, until_height: 800_100,
  },
  payment_receipt: { type: 'payment_receipt', receipt: RECEIPT, signature: hex(64) },
  receipt_request: { type: 'receipt_request', payment_hash: hex(32, '9a') },
  receipt_proof: {
    type: 'receipt_proof', payment_hash: hex(32, '9a'), status: 'anchored', entry: PROOF_ENTRY, path: [hex(32, '01'), hex(32, '02')],
    anchor: PROOF_ANCHOR,
  },
  split_leg_locked: {
    type: 'split_leg_locked', split_id: hex(32, 'bb'), index: 2, payment_hash: hex(32, '9a'), amount_msat: 7_000, r_hash: hex(32, 'ee'),
    signature: hex(64, '5c'),
  },
  split_release: {
    type: 'split_release', split_id: hex(32, 'bb'), recipient: point('44'), payment_hash: hex(32, '9a'),
    secret: { ephemeral_point: point('e3'), ciphertext: hex(32, 'c3'), tag: hex(32, '7c') },
  },
  split_abort: { type: 'split_abort', split_id: hex(32, 'bb'), signature: hex(64, '5d') },
  stream_items: {
    type: 'stream_items', peer: point('93'), payment_hash: hex(32, '9b'), count: 3, root: hex(32, '9c'), first: 1,
    items: 'order-1\t17\tview\norder-2\t1\t',
  },
  stream_receipt: { type: 'stream_receipt', peer: point('94'), payment_hash: hex(32, '9b'), signature: hex(64, '95') },
  payout_policy: {
    type: 'payout_policy', payout_script: '0014' + hex(20, 'a1'), threshold_sat: 20_000, interval_blocks: 6, keep_sat: 10_000,
    close_idle_blocks: 144,
  },
  payout_policy_set: { type: 'payout_policy_set', refused: true, detail: 'threshold_sat: too small' },
  payout_proposal: {
    type: 'payout_proposal', channel_id: hex(32, 'a2'), payout_script: '0014' + hex(20, 'a3'), payout_sat: 50_000, fee_sat: 300,
    feerate_per_kw: 1_000, payout_serial_id: 6,
  },
  node_key_rotation: {
    type: 'node_key_rotation', kind: 'rotate', seq: 1, old_id: point('a0'), new_id: point('a1'), grace_until_height: 800_200,
    old_signature: hex(64, 'a2'), new_signature: hex(64, 'a3'),
  },
} as const satisfies { [K in MessageType]: z.input<(typeof MESSAGE_SCHEMAS)[K]> }

/** How each field is checked. Every field of every schema must be listed (the fixture test checks). */
export type Kind =
  | 'type' | 'hex32' | 'point33' | 'sig64' | 'u8' | 'u16' | 'u32' | 'u64' | 's64' | 'msat' | 'sat'
  | 'amount_msat' | 'funding_sat' | 'script' | 'channel_type' | 'fail_reason' | 'fail_detail' | 'error_text'
  | 'bool' | 'metadata' | 'htlc_signatures' | 'fee_range' | 'pong_bytes' | 'ping_ignored' | 'pong_ignored'
  | 'prevtx' | 'output_script' | 'witnesses' | 'next_funding' | 'funding_locked' | 'split_index' | 'release_secret'
  | 'receipt' | 'receipt_status' | 'proof_entry' | 'merkle_path' | 'proof_anchor'
  | 'tick_count' | 'tick_index' | 'stream_items' | 'rotation_kind' | 'rotation_seq'

export const FIELD_KINDS: Record<string, Kind> = {
  type: 'type',
  chain_hash: 'hex32', temporary_channel_id: 'hex32', channel_id: 'hex32', funding_txid: 'hex32',
  payment_hash: 'hex32', payment_preimage: 'hex32', per_commitment_secret: 'hex32',
  your_last_per_commitment_secret: 'hex32', challenge: 'hex32',
  client_challenge: 'hex32', splice_txid: 'hex32', shared_input_txid: 'hex32', txid: 'hex32',
  funding_pubkey: 'point33', revocation_basepoint: 'point33', payment_basepoint: 'point33',
  delayed_payment_basepoint: 'point33', htlc_basepoint: 'point33', first_per_commitment_point: 'point33',
  second_per_commitment_point: 'point33', next_per_commitment_point: 'point33',
  my_current_per_commitment_point: 'point33', recipient: 'point33', hub_id: 'point33', client_id: 'point33',
  signature: 'sig64', shared_input_signature: 'sig64',
  channel_flags: 'u8',
  to_self_delay: 'u16', max_accepted_htlcs: 'u16', funding_output_index: 'u16', batch_size: 'u16', message_type: 'u16',
  feerate_per_kw: 'u32', minimum_depth: 'u32', cltv_expiry: 'u32', funding_feerate_perkw: 'u32', locktime: 'u32',
  prevtx_vout: 'u32', sequence: 'u32', feerate: 'u32',
  id: 'u64', next_commitment_number: 'u64', next_revocation_number: 'u64', serial_id: 'u64',
  funding_contribution_satoshis: 's64', funding_output_contribution: 's64',
  push_msat: 'msat', max_htlc_value_in_flight_msat: 'msat', htlc_minimum_msat: 'msat',
  amount_msat: 'amount_msat',
  funding_satoshis: 'funding_sat',
  dust_limit_satoshis: 'sat', channel_reserve_satoshis: 'sat', fee_satoshis: 'sat', sats: 'sat',
  upfront_shutdown_script: 'script', scriptpubkey: 'script',
  channel_type: 'channel_type', reason: 'fail_reason', detail: 'fail_detail', data: 'error_text',
  initiator: 'bool', require_confirmed_inputs: 'bool',
  metadata: 'metadata', htlc_signatures: 'htlc_signatures', fee_range: 'fee_range',
  num_pong_bytes: 'pong_bytes', prevtx: 'prevtx', script: 'output_script', witnesses: 'witnesses',
  next_funding: 'next_funding', my_current_funding_locked: 'funding_locked',
  fee_base_msat: 'msat', fee_proportional_millionths: 'u32', cltv_expiry_delta: 'u16',
  until_time: 'u64', until_height: 'u32',
  receipt: 'receipt', status: 'receipt_status', entry: 'proof_entry', path: 'merkle_path', anchor: 'proof_anchor',
  split_id: 'hex32', r_hash: 'hex32', index: 'split_index', secret: 'release_secret',
  peer: 'point33', root: 'hex32', count: 'tick_count', first: 'tick_index', items: 'stream_items',
  payout_script: 'script', threshold_sat: 'sat', keep_sat: 'sat', payout_sat: 'sat', fee_sat: 'sat', interval_blocks: 'u32',
  close_idle_blocks: 'u32', payout_serial_id: 'u32', refused: 'bool',
  kind: 'rotation_kind', seq: 'rotation_seq', old_id: 'point33', new_id: 'point33', grace_until_height: 'u32',
  old_signature: 'sig64', new_signature: 'sig64',
}
/** `ignored` means different bounds in ping and pong. */
export function kindOf (type: MessageType, field: string): Kind | undefined {
  if (field === 'ignored') return type === 'ping' ? 'ping_ignored' : 'pong_ignored'
  return FIELD_KINDS[field]
}

/** Fields of a message type, and whether each is optional, read from its schema. */
export function fieldsOf (type: MessageType): Array<{ name: string, optional: boolean }> {
  const shape = MESSAGE_SCHEMAS[type].shape as Record<string, { safeParse: (v: unknown) => { success: boolean } }>
  return Object.entries(shape).map(([name, s]) => ({ name, optional: s.safeParse(undefined).success }))
}

/** Values each kind must refuse. Built with JSON in mind: they are sent through JSON.stringify. */
const tooLongHex = (bytes: number): string => '00'.repeat(bytes + 1)
const NOT_A_NUMBER: unknown[] = ['1', null, true, [], {}]
const uintBad = (max: number): unknown[] => [-1, max + 1, 1.5, 1e300, ...NOT_A_NUMBER]
export const BAD_VALUES: Record<Kind, unknown[]> = {
  type: [],
  hex32: ['', hex(31), hex(33), 'AB'.repeat(32), 'zz'.repeat(32), hex(31) + 'a', ` ${hex(31)}a`, 32, null],
  point33: ['04' + hex(32), '02' + hex(31), '02' + hex(33), '02' + 'AB'.repeat(32), hex(33), 33, null],
  sig64: [hex(63), hex(65), 'AB'.repeat(64), 'g0'.repeat(64), '', 64, null],
  u8: uintBad(0xff),
  u16: uintBad(0xffff),
  u32: uintBad(0xffff_ffff),
  u64: uintBad(Number.MAX_SAFE_INTEGER),
  s64: [Number.MAX_SAFE_INTEGER + 2, Number.MIN_SAFE_INTEGER - 2, 0.5, ...NOT_A_NUMBER],
  msat: uintBad(Number.MAX_SAFE_INTEGER),
  sat: uintBad(Number.MAX_SAFE_INTEGER),
  amount_msat: [0, ...uintBad(Number.MAX_SAFE_INTEGER)],
  funding_sat: [L.MAX_FUNDING_SATOSHIS + 1, 2 ** 24, ...uintBad(Number.MAX_SAFE_INTEGER)],
  script: ['', tooLongHex(L.MAX_SHUTDOWN_SCRIPT_BYTES), '001', '0014' + 'GG'.repeat(20), 14],
  channel_type: ['', 'legacy', 'ANCHORS', 1, null],
  fail_reason: ['', 'because', 'Recipient_Offline', 0x2002, null],
  fail_detail: ['x'.repeat(L.MAX_FAIL_DETAIL_CHARS + 1), 'line\nbreak', 'bell\u0007', 'lone \ud800', '\udc00 lone', 5],
  error_text: ['x'.repeat(L.MAX_ERROR_TEXT_CHARS + 1), 'esc\u001b[31m', 'pair \udbff\udbff', 5, null],
  bool: [0, 1, 'true', null],
  metadata: [
    { extra: 'x' }, { stream_root: hex(31) }, { split_id: 'AB'.repeat(32) },
    { reference: 'r'.repeat(L.MAX_REFERENCE_CHARS + 1) }, { reference: 'tab\there' },
    { invoice: 'l'.repeat(L.MAX_FORWARDED_INVOICE_CHARS + 1) }, { invoice: 'lnbcrt 1' }, [], 'metadata', null,
    { push: { ephemeral_point: '04' + hex(32), ciphertext: hex(40), tag: hex(32) } },
    { push: { ephemeral_point: '02' + hex(32), ciphertext: hex(41), tag: hex(32) } },
    { push: { ephemeral_point: '02' + hex(32), ciphertext: hex(40) } },
    { push: { ephemeral_point: '02' + hex(32), ciphertext: hex(40), tag: hex(32), extra: 1 } },
    { idempotency_key: '' }, { idempotency_key: 'k'.repeat(65) }, { idempotency_key: 'no spaces' },
    { split_leg: { split_id: hex(32), index: L.MAX_SPLIT_RECIPIENTS, count: 3, payer: '02' + hex(32), release_by: 1, secret: {
      ephemeral_point: '02' + hex(32), ciphertext: hex(40), tag: hex(32),
    } } },
    { split_leg: { split_id: hex(32), index: 0, count: 0, payer: '02' + hex(32), release_by: 1, secret: {
      ephemeral_point: '02' + hex(32), ciphertext: hex(40), tag: hex(32),
    } } },
    { split_leg: { split_id: hex(32), index: 0, count: 1, payer: '02' + hex(32), release_by: 1 } },
  ],
  htlc_signatures: [
    Array.from({ length: L.MAX_HTLC_SIGNATURES + 1 }, () => hex(64)), [hex(63)], ['AB'.repeat(64)], [null], hex(64), {},
  ],
  fee_range: [
    { min_fee_satoshis: 10, max_fee_satoshis: 9 }, { min_fee_satoshis: 1 }, { min_fee_satoshis: -1, max_fee_satoshis: 9 },
    { min_fee_satoshis: 1, max_fee_satoshis: 9, extra: 1 }, [1, 9], null,
  ],
  pong_bytes: [L.MAX_PONG_BYTES + 1, 65532, ...uintBad(0xffff)],
  ping_ignored: [tooLongHex(L.MAX_PING_IGNORED_BYTES), '0', 'ZZ', 0, null],
  pong_ignored: [tooLongHex(L.MAX_PONG_BYTES), '000', 'zz', 0, null],
  prevtx: [tooLongHex(L.MAX_PREVTX_BYTES), '02000000' + 'XY', '0', 1],
  output_script: ['', '0', 'ZZ', 1, null],
  witnesses: [
    Array.from({ length: L.MAX_INTERACTIVE_INPUTS_OUTPUTS + 1 }, () => []),
    [Array.from({ length: L.MAX_WITNESS_ITEMS + 1 }, () => '')], [[tooLongHex(L.MAX_WITNESS_ITEM_BYTES)]],
    [['0']], [[1]], ['00'], {}, null,
  ],
  next_funding: [
    { next_funding_txid: hex(31), retransmit_flags: 0 }, { next_funding_txid: hex(32), retransmit_flags: 256 },
    { next_funding_txid: hex(32) }, { next_funding_txid: hex(32), retransmit_flags: 0, extra: 1 }, hex(32), null,
  ],
  receipt: [
    { ...RECEIPT, v: 2 }, { ...RECEIPT, amount_msat: -1 }, { ...RECEIPT, payer: '04' + hex(32) }, { ...RECEIPT, extra: 1 },
    { ...RECEIPT, reference: 'r'.repeat(L.MAX_REFERENCE_CHARS + 1) }, { ...RECEIPT, entry: 1.5 }, { ...RECEIPT, time_ms: undefined }, null,
  ],
  receipt_status: ['', 'ANCHORED', 'maybe', 1, null],
  proof_entry: [
    { ...PROOF_ENTRY, n: -1 }, { ...PROOF_ENTRY, hash: 'AB'.repeat(32) }, { ...PROOF_ENTRY, record: [] }, { ...PROOF_ENTRY, extra: 1 },
    { ...PROOF_ENTRY, height: undefined }, 'entry', null,
  ],
  merkle_path: [Array.from({ length: L.MAX_MERKLE_PATH + 1 }, () => hex(32)), [hex(31)], ['AB'.repeat(32)], hex(32), {}],
  proof_anchor: [
    { ...PROOF_ANCHOR, from: -1 }, { ...PROOF_ANCHOR, txid: hex(31) }, { ...PROOF_ANCHOR, extra: 1 }, { ...PROOF_ANCHOR, root: undefined },
    [],
  ],
  split_index: [L.MAX_SPLIT_RECIPIENTS, ...uintBad(0xffff)],
  release_secret: [
    { ephemeral_point: '02' + hex(32), ciphertext: hex(40), tag: hex(32) },
    { ephemeral_point: '04' + hex(32), ciphertext: hex(32), tag: hex(32) },
    { ephemeral_point: '02' + hex(32), ciphertext: hex(32) }, hex(32), null,
  ],
  funding_locked: [
    { my_current_funding_locked_txid: 'AB'.repeat(32), retransmit_flags: 0 },
    { my_current_funding_locked_txid: hex(32), retransmit_flags: -1 },
    { retransmit_flags: 0 }, [hex(32), 0], null,
  ],
  rotation_kind: ['', 'Rotate', 'commit', 1, null],
  rotation_seq: [0, ...uintBad(Number.MAX_SAFE_INTEGER)],
  tick_count: [0, L.MAX_STREAM_TICK_ITEMS + 1, 1.5, ...NOT_A_NUMBER],
  tick_index: [-1, L.MAX_STREAM_TICK_ITEMS, 0.5, ...NOT_A_NUMBER],
  // The hub checks the packed string's characters and length; each item is the payee's to check
  // (test/unit/protocol/stream/packed-items.test.ts).
  stream_items: [
    'a\t1\tquote"', 'back\\slash\t1\t', 'é\t1\t', 'a\x01\t1\t', 'a'.repeat(L.MAX_STREAM_CHUNK_CHARS + 1), [['a', 1, '']], {}, null, 1,
  ],
}

// ── Arbitraries of valid messages, per field kind ──

const hexArb = (min: number, max: number): fc.Arbitrary<string> =>
  fc.uint8Array({ minLength: min, maxLength: max }).map((b) => Buffer.from(b).toString('hex'))
const textArb = (max: number): fc.Arbitrary<string> =>
  fc.string({ maxLength: max, unit: 'grapheme' }).filter((s) => s.length <= max && !/[\u0000-\u001f\u007f]/.test(s))
const uintArb = (max: number): fc.Arbitrary<number> =>
  fc.oneof(fc.integer({ min: 0, max: Math.min(max, 0x7fff_ffff) }), fc.constantFrom(0, max), fc.maxSafeNat().map((n) => n % (max + 1)))

const VALID_POINT = fc.tuple(fc.constantFrom('02', '03'), hexArb(32, 32)).map(([p, x]) => p + x)

export const VALID: Record<Exclude<Kind, 'type'>, fc.Arbitrary<unknown>> = {
  hex32: hexArb(32, 32),
  point33: fc.tuple(fc.constantFrom('02', '03'), hexArb(32, 32)).map(([p, x]) => p + x),
  sig64: hexArb(64, 64),
  u8: uintArb(0xff),
  u16: uintArb(0xffff),
  u32: uintArb(0xffff_ffff),
  u64: uintArb(Number.MAX_SAFE_INTEGER),
  s64: fc.oneof(fc.maxSafeInteger(), fc.constantFrom(Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, 0)),
  msat: uintArb(Number.MAX_SAFE_INTEGER),
  sat: uintArb(Number.MAX_SAFE_INTEGER),
  amount_msat: uintArb(Number.MAX_SAFE_INTEGER).map((n) => Math.max(1, n)),
  funding_sat: uintArb(L.MAX_FUNDING_SATOSHIS),
  script: hexArb(1, L.MAX_SHUTDOWN_SCRIPT_BYTES),
  channel_type: fc.constantFrom(...CHANNEL_TYPES),
  fail_reason: fc.constantFrom(...HTLC_FAILURE_REASONS),
  fail_detail: textArb(L.MAX_FAIL_DETAIL_CHARS),
  error_text: textArb(200),
  bool: fc.boolean(),
  metadata: fc.record({
    stream_root: hexArb(32, 32), split_id: hexArb(32, 32), reference: textArb(L.MAX_REFERENCE_CHARS),
    invoice: fc.stringMatching(/^[0-9a-z]{0,300}$/),
    push: fc.record({
      ephemeral_point: fc.tuple(fc.constantFrom('02', '03'), hexArb(32, 32)).map(([p, x]) => p + x), ciphertext: hexArb(40, 40),
      tag: hexArb(32, 32),
    }, { noNullPrototype: true }),
    idempotency_key: fc.stringMatching(/^[0-9A-Za-z_.:-]{1,64}$/),
    split_leg: fc.record({
      split_id: hexArb(32, 32), index: fc.integer({ min: 0, max: L.MAX_SPLIT_RECIPIENTS - 1 }),
      count: fc.integer({ min: 1, max: L.MAX_SPLIT_RECIPIENTS }),
      payer: fc.tuple(fc.constantFrom('02', '03'), hexArb(32, 32)).map(([p, x]) => p + x), release_by: uintArb(Number.MAX_SAFE_INTEGER),
      secret: fc.record({
        ephemeral_point: fc.tuple(fc.constantFrom('02', '03'), hexArb(32, 32)).map(([p, x]) => p + x), ciphertext: hexArb(40, 40),
        tag: hexArb(32, 32),
      }, { noNullPrototype: true }),
    }, { noNullPrototype: true }),
  }, { requiredKeys: [], noNullPrototype: true }),
  htlc_signatures: fc.array(hexArb(64, 64), { maxLength: 20 }),
  fee_range: fc.tuple(uintArb(1_000_000), uintArb(1_000_000))
    .map(([a, b]) => ({ min_fee_satoshis: Math.min(a, b), max_fee_satoshis: Math.max(a, b) })),
  pong_bytes: uintArb(L.MAX_PONG_BYTES),
  ping_ignored: hexArb(0, 64),
  pong_ignored: hexArb(0, 64),
  prevtx: hexArb(0, 300),
  output_script: hexArb(1, 64),
  witnesses: fc.array(fc.array(hexArb(0, 80), { maxLength: 4 }), { maxLength: 4 }),
  next_funding: fc.record({ next_funding_txid: hexArb(32, 32), retransmit_flags: uintArb(0xff) }, { noNullPrototype: true }),
  funding_locked: fc.record({ my_current_funding_locked_txid: hexArb(32, 32), retransmit_flags: uintArb(0xff) }, { noNullPrototype: true }),
  receipt: fc.record({
    v: fc.constant(1), hub_id: VALID_POINT, payment_hash: hexArb(32, 32), amount_msat: uintArb(Number.MAX_SAFE_INTEGER),
    fee_msat: uintArb(Number.MAX_SAFE_INTEGER), payer: VALID_POINT, payee: VALID_POINT,
    reference: fc.option(textArb(L.MAX_REFERENCE_CHARS), { nil: null }), time_ms: uintArb(Number.MAX_SAFE_INTEGER),
    entry: uintArb(Number.MAX_SAFE_INTEGER),
  }, { noNullPrototype: true }),
  receipt_status: fc.constantFrom('anchored', 'not_anchored', 'unknown'),
  proof_entry: fc.record({
    n: uintArb(Number.MAX_SAFE_INTEGER), prev: hexArb(32, 32), hash: hexArb(32, 32), time_ms: uintArb(Number.MAX_SAFE_INTEGER),
    height: uintArb(0xffff_ffff),
    record: fc.dictionary(
      fc.string({ maxLength: 12 }), fc.oneof(fc.string({ maxLength: 20 }), fc.integer(), fc.boolean()),
      { maxKeys: 8, noNullPrototype: true },
    ),
  }, { noNullPrototype: true }),
  merkle_path: fc.array(hexArb(32, 32), { maxLength: 20 }),
  proof_anchor: fc.record({
    prev_commitment: hexArb(32, 32), root: hexArb(32, 32), from: uintArb(Number.MAX_SAFE_INTEGER), to: uintArb(Number.MAX_SAFE_INTEGER),
    commitment: hexArb(32, 32), txid: hexArb(32, 32),
  }, { noNullPrototype: true }),
  split_index: fc.integer({ min: 0, max: L.MAX_SPLIT_RECIPIENTS - 1 }),
  release_secret: fc.record({
    ephemeral_point: fc.tuple(fc.constantFrom('02', '03'), hexArb(32, 32)).map(([p, x]) => p + x), ciphertext: hexArb(32, 32),
    tag: hexArb(32, 32),
  }, { noNullPrototype: true }),
  rotation_kind: fc.constantFrom('rotate', 'rollback'),
  rotation_seq: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  tick_count: fc.integer({ min: 1, max: L.MAX_STREAM_TICK_ITEMS }),
  tick_index: fc.integer({ min: 0, max: L.MAX_STREAM_TICK_ITEMS - 1 }),
  stream_items: fc.array(fc.tuple(
    fc.stringMatching(/^[0-9A-Za-z_.:-]{1,64}$/), fc.integer({ min: 1, max: L.MAX_STREAM_ITEM_MSAT }), fc.stringMatching(/^[a-z ]{0,64}$/),
  ), { maxLength: 20 }).map(packStreamItems),
}

/** A random valid message of `type`: each optional field present or not. */
export function messageArb (type: MessageType): fc.Arbitrary<PeerMessage> {
  const model: Record<string, fc.Arbitrary<unknown>> = {}
  const required: string[] = []
  for (const { name, optional } of fieldsOf(type)) {
    const kind = kindOf(type, name)
    if (kind === undefined) throw new Error(`no kind for ${type}.${name}`)
    model[name] = kind === 'type' ? fc.constant(type) : VALID[kind]
    if (!optional) required.push(name)
  }
  return fc.record(model, { requiredKeys: required as never[], noNullPrototype: true }) as unknown as fc.Arbitrary<PeerMessage>
}
export const anyMessageArb: fc.Arbitrary<PeerMessage> = fc.constantFrom(...MESSAGE_TYPES).chain(messageArb)

// ── Self-check, when tap runs this file on its own ──
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { default: t } = await import('tap')
  const { decodeFrame } = await import('../../../../protocol/wire/index.ts')
  t.test('fixtures: one valid sample per message type, every field with a kind', async (t) => {
    t.same(Object.keys(SAMPLES).sort(), [...MESSAGE_TYPES].sort(), 'a sample for every message type')
    for (const type of MESSAGE_TYPES) {
      const sample: Record<string, unknown> = SAMPLES[type]
      for (const { name } of fieldsOf(type)) {
        t.ok(kindOf(type, name), `${type}.${name} has a kind`)
        t.ok(name in sample, `the ${type} sample sets ${name} (optional fields too)`)
      }
      t.ok(decodeFrame(JSON.stringify(sample)).ok, `the ${type} sample decodes`)
    }
  })
}
