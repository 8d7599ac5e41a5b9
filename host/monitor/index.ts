// host/monitor: runs the chain monitors (protocol/monitor, BOLT #5) of all of an owner's channels.
// Used by the hub and by the SDK (each with its own Store, ChainBackend and wallet) through ONE
// wrapper, ChannelMonitors (channel-monitors.ts): the MonitorHost below, its update feed, startup
// adoption with stale-channel detection, and force close through the channel machine. The owner gives
// it its channels, their keys and what to do with the monitors' decisions.
//
// What ChannelMonitors does with MonitorHost:
//
//   import { MonitorHost } from '../host/monitor/index.ts'
//   import { monitorKeys } from '../protocol/monitor/index.ts'
//   import { channelKeys } from '../protocol/keys/channel.ts'
//   const host = await MonitorHost.open({
//     store, chain,                                            // the same Store the channels persist to
//     keysFor: id => { const seed = seedOf(id); return seed && monitorKeys(channelKeys(seed)) },
//     config: { sweepScript: bytesToHex(wallet.newAddress().script), depth: 6, feeratePerKw: cfg.claimFeerate },
//     onEvent: async (id, ev) => { ... },                      // see below; must be idempotent
//   })
//   if (!host.ok) stop loudly
//   await host.value.adoptAll(channels.map(ch => ({ id, lastSeq: ch.state.monitorSeq })))  // or ids only
//   await host.value.start()                                   // follows the chain, catching up first
//   // after each channel persist batch is durable (ChannelDriver ports.persist; updates in the store):
//   await host.value.addUpdates(req.channelId, req.monitor)    // or through MonitorUpdateFeed
//   // operator / SDK:
//   await host.value.forceClose(channelId)                     // broadcast our latest commitment
//
// Events (onEvent):
//   preimage_learned {paymentHash, preimage}   fulfil the upstream HTLC with it (scenario 8)
//   htlc_resolved {htlc, outcome, preimage?}   an HTLC of this channel resolved on-chain: 'fulfilled'
//                                             (fulfil upstream), or 'failed' once `depth` deep (fail
//                                             upstream). Offered HTLCs have htlc.offerer === 'local'.
//   force_closing {reason}                     the monitor went on-chain (a deadline, or requested):
//                                             fail the channel if it is not already
//   funding_depth {depth}                      the funding tx's confirmations (0 after a reorg; after
//                                             splice_locked, the splice tx's)
//   closed {how}                               every output resolved at depth: archive the channel
//   warning {detail}
// Every claim pays `config.sweepScript` (the owner's wallet). Broadcasts are retried every block and
// every `retryMs` until they confirm; unconfirmed claims are fee-bumped by replacement.
//
// Stale channel state (scenario 6): at startup, if a channel's stored state has
// `state.monitorSeq < host.lastSeq(id)`, the channel restarted from an older state than its
// monitor: do not run the channel; `forceClose(id)` closes with the monitor's newest commitment.
//
// Cost (host.ts and checkpoint.ts): monitor states are stored as checkpoints (not per
// update; the channel's stored updates are replayed after a restart), so the updates must stay in
// the store. A monitor with nothing at stake is not kept in memory: `state(id)` is undefined for it
// (`lastSeq(id)` and `inspect(id)` work for every monitor). `funding_depth` is reported until the
// funding tx is `depth` deep (and again after a reorg of its block), not for every later block.
//
// Known limits: on an `anchors` channel, our own HTLC-success/timeout txs carry no fee (BOLT #3) and
// need wallet inputs (protocol/tx bumpHtlcTx): the monitor builds them unfunded, so btcd refuses them
// (onBroadcastError 'insufficient_fee'); claims from the peer's commitment, penalties and sweeps work
// on both channel types. The commitment itself is never CPFP'd (btcd has no package relay): its fee
// is the channel's feerate. The fee-bump clock runs per block a claim is wanted, including blocks
// replayed while catching up.
export { MonitorHost, type MonitorHostOptions, type MonitorEvent } from './host.ts'
export {
  ChannelMonitors, type ChannelMonitorsOptions, type ChannelForceClose, type MonitoredChannel, type MonitorStartFailure,
} from './channel-monitors.ts'
export { monitorBlockOf, monitorTxOf } from './convert.ts'
