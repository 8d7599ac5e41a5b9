// What HubClient's create(), connect(), openChannel(), requestChannel(), close(), untilReestablished(),
// spliceOut(), spliceIn(), spliceRbf() and untilSpliceLocked() reject with when they fail for a reason other than a bad argument (that
// is a TypeError naming the field, options.ts): a ClientError with one reason of a closed set, saying what went wrong and what the caller
// can do, the detail, and the typed failure underneath (`cause`: a wallet error, a chain failure, the channel's error) so the
// caller can branch on it instead of parsing a message.
import type { ChannelError } from '../protocol/errors.ts'
import type { Phase } from '../protocol/channel/index.ts'
import type { ChainFailure } from '../host/chain/backend.ts'
import type { MonitorStartFailure } from '../host/monitor/index.ts'
import type { OpenError, WalletError } from '../host/wallet/wallet.ts'
import type { SpliceRefusal } from '../host/channel/splicing.ts'
import type { ConnectFailure } from './transport/connection.ts'

export const CLIENT_FAILURE_REASONS = [
  /** create(): the chain backend did not answer (genesis block, tip, following). Retry when it is up. */
  'chain_unavailable',
  /** create(): the wallet could not be opened: its seed is unreadable or exposed, its state unreadable,
   *  or the chain under it was wiped (scenario 12). Needs an operator. */
  'wallet_unavailable',
  /** create(): the chain monitors could not start (a stored monitor is unreadable). Needs an operator. */
  'monitor_unavailable',
  /** openChannel(), spliceIn(), spliceRbf(): the wallet holds too little to fund the channel or the splice. Fund it
   *  (newAddress()) and retry. */
  'insufficient_funds',
  /** openChannel(): the wallet could not build the funding transaction for another reason. */
  'funding_failed',
  /** openChannel(), requestChannel(): the channel ended before it was ready (the hub refused or failed it). */
  'channel_failed',
  /** openChannel(): the channel stopped on a failed write of our store. Restart the client. */
  'channel_stopped',
  /** requestChannel(): the hub refused (it sent a connection-level `error`); setPayoutPolicy(): the hub
   *  refused the policy (outside its settlement.policy bounds: the detail names the field). */
  'hub_refused',
  /** requestChannel(): the hub's funding was missing, wrong or late (protocol/channel/funding-check.ts):
   *  the channel is abandoned and will never be used. Ask again. */
  'channel_abandoned',
  /** connect(), untilReestablished(): no connection to the hub within the timeout (a wrong URL, the
   *  hub down or unreachable); the detail says how many attempts failed and how the last one did. The
   *  client stopped trying: call again when the hub is up. */
  'hub_unreachable',
  /** connect(): the handshake failed for good: the server's proof of its key did not verify, or it
   *  refused our key (a server proving another key than `hubId` is hub_key_untrusted). Retrying cannot help. */
  'hub_auth_failed',
  /** connect(): the hub proves a node key we do not trust where the one we trust was expected: its
   *  operator rotated the hub's node key and its grace ended while this client was away (or hubId is
   *  wrong, or the URL is another hub's). Retrying cannot help: get the hub's new id from its operator (out of band) and
   *  create the client with it as options.hubId. The detail names both keys. */
  'hub_key_untrusted',
  /** connect(): the hub's chain (its hub_policy.chain_hash) is not the one our chain backend follows:
   *  point the client at a node of the hub's network. */
  'wrong_chain',
  /** connect(), openChannel(), requestChannel(), close(), untilReestablished(), spliceOut(), spliceIn(), spliceRbf(),
   *  untilSpliceLocked(), getReceiptProof(), setPayoutPolicy(): connected (or trying to), but the hub's next step did not come within the
   *  timeout; the detail names the message we waited for. Nothing was undone: the channel goes on when
   *  the hub answers (a splice not signed yet ends with the connection, or at the quiescence timeout). */
  'hub_not_responding',
  /** openChannel(), requestChannel(): the funding transaction did not reach its confirmations and
   *  the chain tip did not move within the timeout (on regtest, nobody mines). Nothing was undone:
   *  the channel becomes ready once the funding confirms (channel_state events). */
  'funding_not_confirmed',
  /** spliceOut(), spliceIn(): no channel with the hub is open and connected to splice; spliceRbf(): no
   *  channel has that splice pending (unknown, or locked already). */
  'no_channel',
  /** spliceOut(), spliceIn(), spliceRbf(): the channel refused to start the splice (the `cause` is its
   *  error: the balance or reserve left after it, the feerate — an RBF's below 25/24 of the replaced
   *  one's —, a splice already pending, the payout below the dust limit, a splice replaced already, the
   *  peer's, or one we sent splice_locked for). Nothing was sent. */
  'splice_refused',
  /** spliceOut(), spliceIn(), spliceRbf(): the splice ended without a transaction: the hub refused it (tx_abort,
   *  its reason in the detail), or the connection dropped before both sides signed. Nothing of it is
   *  on-chain; our coins are free again. */
  'splice_aborted',
  /** untilSpliceLocked(): the splice transaction did not reach its confirmations and the chain tip did
   *  not move within the timeout (on regtest, nobody mines). Nothing was undone. */
  'splice_not_confirmed',
  /** openChannel(), requestChannel(), close(), spliceOut(), spliceIn(), spliceRbf(), untilSpliceLocked(): the client was stopped
   *  (stop()) while the call waited. Nothing was undone: what was stored goes on after the client starts again (a close agreed
   *  is broadcast then, a channel opening carries on). */
  'client_stopped',
] as const
export type ClientFailureReason = (typeof CLIENT_FAILURE_REASONS)[number]

/** The typed failure underneath, by reason. */
export type ClientFailureCause =
  | ChainFailure
  | OpenError
  | MonitorStartFailure
  | WalletError
  | ChannelError
  | ConnectFailure
  | SpliceRefusal
  | { phase: Phase }
  | undefined

/** Which call failed. */
export type ClientOperation =
  | 'create' | 'connect' | 'openChannel' | 'requestChannel' | 'close' | 'untilReestablished' | 'spliceOut' | 'spliceIn' | 'spliceRbf' |
    'untilSpliceLocked' | 'getReceiptProof' | 'setPayoutPolicy'

export class ClientError extends Error {
  override readonly name = 'ClientError'
  constructor (
    readonly operation: ClientOperation,
    readonly reason: ClientFailureReason,
    readonly detail: string,
    /** The typed failure underneath (see ClientFailureCause), when there is one. */
    override readonly cause?: ClientFailureCause,
  ) {
    super(`${operation}: ${reason}: ${detail}`)
  }
}
