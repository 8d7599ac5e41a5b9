// Public surface of protocol/monitor: the pure chain monitor (BOLT #5). One monitor per channel,
// fed the channel's numbered MonitorUpdates and the chain's blocks; it decides what to broadcast and
// reports what was decided on-chain. A monitor alone (no channel state) recovers every satoshi.
//
//   let m = newMonitor(channelId, { sweepScript, depth: 6, feeratePerKw: 2500 }, tipHeight, tipHash)
//   const keys = monitorKeys(channelKeys(seed))                       // protocol/keys
//   ;({ state: m, actions } = monitorStep(m, { kind: 'update', update }, keys))
//   ;({ state: m, actions } = monitorStep(m, { kind: 'block_connected', block }, keys))
// Run actions in order: persist (store `m`), then broadcast (retry every block until confirmed;
// the same txid or its replacement comes back each step), then report (preimage_learned,
// htlc_resolved, force_closing, funding_spent, closed, funding_depth). host/monitor/ is the host that
// does this. onChainSummary says what a monitor has seen and swept (for the owner's views).
// A spliced channel's monitor follows every funding candidate (splice.ts): a splice transaction is not
// a close, and a commitment spending the old funding output or any candidate's is handled alike.
export {
  newMonitor, DEFAULT_MONITOR_CONFIG, type MonitorState, type MonitorConfig, type SeenTx, type LocalCommitRecord, type RemoteCommitRecord,
  type SpliceCandidateRecord, type SplicedFunding, type MonitorSplices,
} from './state.ts'
export { monitorKeys, type MonitorKeys } from './keys.ts'
export {
  monitorStep, fundingDepth, type MonitorInput, type MonitorAction, type MonitorStep, type MonitorBlock, type MonitorTx,
} from './step.ts'
export { resolve, type Resolution, type Want, type WantReason, type HtlcOutcome } from './resolve.ts'
export { identifyFundingSpend, buildLocal, type FundingSpend } from './commitments.ts'
export { claimFeerate, MIN_BUMP_PER_KW } from './fees.ts'
export { parseMonitorState } from './schema.ts'
export { onChainSummary, type OnChainSummary, type Sweep } from './summary.ts'
export { fundingOutpoints, knownFundings, type KnownFunding } from './splice.ts'
