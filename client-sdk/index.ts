// The client SDK: what creator platforms (payers), creators and co-op treasuries (payees) embed.
//
// Node-side infrastructure shared with the hub: the SDK imports host/chain (ChainBackend over btcd),
// host/wallet (the on-chain wallet that funds a platform's channel and receives closing outputs) and
// host/store (LevelDB with synced group commit) — the same audited code, not a copy. Everything about
// channels runs through host/channel's ChannelDriver, the one channel runner the hub uses too.
export { HubClient, type HubClientEvents, type DurableEvent, type HubPolicy, type ChannelInfo, type Balances, type CloseResult, type ForceCloseResult, type ForceCloseRefusal } from './hub-client.ts'
export type { PayResult, PayFailureReason } from './payments.ts'
export type { InvoiceInfo, InvoiceStatus, Page, PaymentInfo, PaymentStatus } from './listing.ts'
export type { EventType, EventData } from './event-outbox.ts'
export { ROLES, type Role, type ClientOptionsInput } from './options.ts'
export { connect, ConnectError, HubConnection, HubLink } from './transport/index.ts'
