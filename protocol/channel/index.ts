// Public surface of protocol/channel: the pure BOLT #2 channel state machine.
//
//   const opened = openChannel(params, signer)            // opener; acceptChannel(params, open, signer) for the acceptor
//   let { state, effects } = step(state, input, signer)   // input: peer message, command, chain event, persisted, ...
// Run effects in order: persist (durably, atomically: state + monitor updates), then sends, then emits.
// After each write, step(state, { kind: 'persisted', writeId }) releases what was held behind it.
export type { Phase, Link, Quiescence } from './phase.ts'
export { OPERATING_PHASES, FINAL_PHASES, isOperating, isFinal } from './phase.ts'
export type { ChannelState, ChannelSetup, SideParams, LocalPolicy, CommitmentSpec, Htlc, Side, Update, SignedClosing } from './state.ts'
export type { Effect, ChannelEvent, MonitorUpdate, Step } from './effects.ts'
export type { ChannelSigner, CommitmentRef, ClosingRef, ClosingVariant, SignatureCheck } from './signer.ts'
export type { Command, ChainEvent, ChannelInput } from './step.ts'
export type { ReestablishOutcome } from './reestablish.ts'
export type { OpenParams, AcceptParams } from './open.ts'
export { step } from './step.ts'
export { openChannel, acceptChannel, channelIdFromFunding } from './open.ts'
export { openFromSeed, acceptFromSeed, type NewChannel, type FromSeed } from './new.ts'
export { decideReestablish, reestablishMessage } from './reestablish.ts'
export { needsSignature } from './commit.ts'
export { forceCloseOutcome, type ForceCloseOutcome } from './failure.ts'
export { bolt3Signer, commitmentParams, type SignerSecrets } from './bolt3-signer.ts'
export { specTotalMsat, reduce } from './spec.ts'
export { untrimmedHtlcs, funderCostMsat, dustExposureMsat } from './fees.ts'
export { defaultPolicy } from './policy.ts'
export { expectedFundingOutput, checkFundingOutput, fundingAsAgreed, type FundingOutputSeen } from './funding-check.ts'
export { closingTrims, type ClosingTrim } from './close-preview.ts'
export {
  committedIncoming, findOffered, hasCommittedHtlcs, hasInFlight, hasPendingUpdates, isSettled, offeredHtlcs, offersPayment, spendableMsat,
  type OfferedSpec,
} from './queries.ts'
export type { SpliceState, SpliceContribution, FundingCandidate, SpliceSession } from './splice/state.ts'
export type { SpliceCommand, SpliceDepth } from './splice/route.ts'
export { quiescence } from './splice/quiescence.ts'
export { spliceFeeSat, spliceWeight, type SpliceFeeParams } from './splice/fees.ts'
export { candidateSpec, candidateSetup } from './splice/state.ts'
