// The client SDK: what creator platforms (payers), creators and co-op treasuries (payees) embed.
//
// Browser-safe: a HubClient runs over the parts it is given — a Store (host/store), a ChainBackend
// (host/chain), a Wallet (host/wallet, over a WalletStorage) and a WebSocket factory — and nothing
// reachable from this file imports node:*, level or ws (test/unit/client-sdk/browser-bundle.test.ts bundles it
// for the browser). Everything about channels runs through host/channel's ChannelDriver and the chain
// monitors through host/monitor, the same code the hub runs. In Node, client-sdk/node.ts builds the
// parts from a data directory (createNodeClient).
export {
  HubClient, type HubClientEvents, type DurableEvent, type HubPolicy, type ChannelInfo, type Balances, type CloseResult,
  type ForceCloseResult, type ForceCloseRefusal,
} from './hub-client.ts'
export { ClientError, CLIENT_FAILURE_REASONS, type ClientFailureReason, type ClientFailureCause, type ClientOperation } from './errors.ts'
export type { PayResult, PayFailureReason } from './payments.ts'
export type { PaymentStream, StreamSummary } from './stream.ts'
export type { ReceivedTick } from './stream-receive.ts'
export type { IncomingTick } from './stream-records.ts'
export { verifyStreamReceipt, type StreamReceipt, type ReceiptRefusal } from '../protocol/stream/tick.ts'
export type { SpliceResult, SpliceLockedInfo, SpliceEvents } from './splices.ts'
export type { SplitResult, SplitLegResult, SplitFailureReason } from './split-pay.ts'
export type { InvoiceInfo, InvoiceStatus, Page, PaymentInfo, PaymentStatus } from './listing.ts'
export type { EventType, EventData } from './event-outbox.ts'
export {
  verifyReceipt, type StoredReceipt, type ReceiptProofStatus, type ReceiptVerification, type ReceiptVerifyReason,
} from './receipts.ts'
export type { Receipt, ReceiptProof } from '../protocol/receipt/index.ts'
export { ROLES, type Role, type ClientOptionsInput, type ClientHost } from './options.ts'
export { connect, ConnectError, HubConnection, HubLink } from './transport/index.ts'
export { nativeSocketFactory, type SocketFactory, type SocketLike } from './transport/socket.ts'
// The chain source a client runs over (client-sdk/README.md "The chain"): implement ChainBackend to
// bring your own (a node, an indexer), or use the btcd one from the Node entry.
export {
  type ChainBackend, type ChainFailure, type BroadcastFailure, type RejectReason, type ChainListener, type FollowOptions, type ChainWiped,
  type BlockRef, type ChainBlock, type ChainTx, type ChainTxInput, type ChainTxOutput, type TxLookup, type TxOutInfo,
} from '../host/chain/backend.ts'
export { ok, err, type Result } from '../protocol/result.ts'
