// The registry of every peer message: its `type` name and schema, and the union types built from it.
// A message type not listed here does not exist on the wire (decodeFrame refuses it).
import type { z } from 'zod'
import * as ch from './channel-messages.ts'
import * as ctl from './control-messages.ts'
import * as sp from './splice-messages.ts'
import * as hub from './hub-messages.ts'
import * as split from './split-messages.ts'
import * as settle from './settlement-messages.ts'
import * as nodeKey from './node-key-messages.ts'

export const MESSAGE_SCHEMAS = {
  open_channel: ch.openChannel,
  accept_channel: ch.acceptChannel,
  funding_created: ch.fundingCreated,
  funding_signed: ch.fundingSigned,
  channel_ready: ch.channelReady,
  update_add_htlc: ch.updateAddHtlc,
  update_fulfill_htlc: ch.updateFulfillHtlc,
  update_fail_htlc: ch.updateFailHtlc,
  commitment_signed: ch.commitmentSigned,
  revoke_and_ack: ch.revokeAndAck,
  update_fee: ch.updateFee,
  shutdown: ch.shutdown,
  closing_signed: ch.closingSigned,
  channel_reestablish: ch.channelReestablish,
  error: ctl.errorMessage,
  warning: ctl.warningMessage,
  ping: ctl.ping,
  pong: ctl.pong,
  hub_hello: ctl.hubHello,
  client_auth: ctl.clientAuth,
  hub_auth: ctl.hubAuth,
  auth_ok: ctl.authOk,
  stfu: sp.stfu,
  start_batch: sp.startBatch,
  splice_init: sp.spliceInit,
  splice_ack: sp.spliceAck,
  splice_locked: sp.spliceLocked,
  tx_add_input: sp.txAddInput,
  tx_add_output: sp.txAddOutput,
  tx_remove_input: sp.txRemoveInput,
  tx_remove_output: sp.txRemoveOutput,
  tx_complete: sp.txComplete,
  tx_signatures: sp.txSignatures,
  tx_abort: sp.txAbort,
  tx_init_rbf: sp.txInitRbf,
  tx_ack_rbf: sp.txAckRbf,
  request_channel: hub.requestChannel,
  hub_policy: hub.hubPolicy,
  payment_held: hub.paymentHeld,
  payment_receipt: hub.paymentReceipt,
  receipt_request: hub.receiptRequest,
  receipt_proof: hub.receiptProof,
  split_leg_locked: split.splitLegLocked,
  split_release: split.splitRelease,
  split_abort: split.splitAbort,
  stream_items: hub.streamItems,
  stream_receipt: hub.streamReceipt,
  payout_policy: settle.payoutPolicy,
  payout_policy_set: settle.payoutPolicySet,
  payout_proposal: settle.payoutProposal,
  node_key_rotation: nodeKey.nodeKeyRotation,
} as const

export type MessageType = keyof typeof MESSAGE_SCHEMAS
export const MESSAGE_TYPES = Object.keys(MESSAGE_SCHEMAS) as MessageType[]

/** Every message a peer may send, discriminated on `type`. */
export type PeerMessage = { [K in MessageType]: z.infer<(typeof MESSAGE_SCHEMAS)[K]> }[MessageType]
/** The message whose `type` is K, e.g. `MessageOf<'update_add_htlc'>`. */
export type MessageOf<K extends MessageType> = Extract<PeerMessage, { type: K }>

export function isMessageType (s: unknown): s is MessageType {
  return typeof s === 'string' && Object.hasOwn(MESSAGE_SCHEMAS, s)
}

/** Messages about one established channel (they carry `channel_id`), handled by protocol/channel/. */
export const CHANNEL_MESSAGE_TYPES = [
  'funding_signed', 'channel_ready', 'update_add_htlc', 'update_fulfill_htlc', 'update_fail_htlc',
  'commitment_signed', 'revoke_and_ack', 'update_fee', 'shutdown', 'closing_signed',
  'channel_reestablish', 'stfu', 'start_batch', 'splice_init', 'splice_ack', 'splice_locked', 'tx_add_input',
  'tx_add_output', 'tx_remove_input', 'tx_remove_output', 'tx_complete', 'tx_signatures', 'tx_abort',
  'tx_init_rbf', 'tx_ack_rbf',
] as const satisfies readonly MessageType[]
export type ChannelMessage = MessageOf<(typeof CHANNEL_MESSAGE_TYPES)[number]>

export type {
  AcceptChannel, ChannelReady, ChannelReestablish, ChannelType, ClosingSigned, CommitmentSigned,
  FundingCreated, FundingSigned, HtlcFailureReason, HtlcMetadata, OpenChannel, RevokeAndAck, Shutdown,
  UpdateAddHtlc, UpdateFailHtlc, UpdateFee, UpdateFulfillHtlc,
} from './channel-messages.ts'
export type {
  AuthOk, ClientAuth, ErrorMessage, HubAuth, HubHello, Ping, Pong, WarningMessage,
} from './control-messages.ts'
export type {
  SpliceAck, SpliceInit, SpliceLocked, StartBatch, Stfu, TxAbort, TxAckRbf, TxAddInput, TxAddOutput, TxComplete,
  TxInitRbf, TxRemoveInput, TxRemoveOutput, TxSignatures,
} from './splice-messages.ts'
export type { HubPolicy, PaymentHeld, PaymentReceipt, ReceiptProofMessage, ReceiptRequest, RequestChannel } from './hub-messages.ts'
export type { SplitAbort, SplitLegLocked, SplitRelease } from './split-messages.ts'
export type { PayoutPolicyMessage, PayoutPolicySet, PayoutProposal } from './settlement-messages.ts'
export type { NodeKeyRotationMessage } from './node-key-messages.ts'
