// Every state a channel can be in, in one place (STYLE.md §3). "What can happen to a channel?" is
// answered here: a phase says where the channel is in its life; a link says whether we may talk to
// the peer right now. Nothing else in the state is a hidden mode.

export type Phase =
  // ── Establishment (BOLT #2 "Channel Establishment v1") ──
  | 'awaiting_accept'          // opener: open_channel sent, waiting for accept_channel
  | 'awaiting_funding_tx'      // opener: accept_channel received, the host is building the funding tx
  | 'awaiting_funding_created' // acceptor: accept_channel sent, waiting for funding_created
  | 'awaiting_funding_signed'  // opener: funding_created sent, waiting for funding_signed (nothing broadcast)
  | 'awaiting_funding_depth'   // funding tx signed both ways; waiting for `minimum_depth` and channel_ready
  // ── Operation (BOLT #2 "Normal Operation") ──
  | 'normal'                   // channel_ready sent and received: payments flow
  // ── Close (BOLT #2 "Channel Close") ──
  | 'shutting_down'            // shutdown sent or received: no new HTLCs, existing ones drain
  | 'negotiating_close'        // no HTLCs left: closing_signed fee negotiation
  | 'closing'                  // a mutual close was agreed (or a commitment went on-chain); the monitor takes over
  | 'awaiting_remote_close'    // data-loss protection: we are provably behind and must never broadcast our commitment
  | 'failed'                   // we failed the channel (error sent): the monitor force-closes with our latest commitment
  | 'abandoned'                // the funding never showed on-chain as agreed (missing, wrong, or not confirmed in time):
                               // nothing to broadcast, nothing of ours at stake; the host may forget it (funding-check.ts)
  | 'closed'                   // a closing or commitment tx is final on-chain

/** The connection to the peer, as far as this channel is concerned (BOLT #2 "Message Retransmission"). */
export type Link =
  | 'down'             // disconnected: nothing may be sent; uncommitted remote updates were dropped
  | 'reestablishing'   // connected, channel_reestablish sent, waiting for the peer's
  | 'up'               // reestablished (or never disconnected): messages flow

/** BOLT #2 "Channel Quiescence", within `normal`: whether updates may flow (ChannelState.splice; the
 *  splice itself is protocol/channel/splice/state.ts SpliceSession). Quiescence ends when the splice
 *  it was for ends (tx_signatures or tx_abort exchanged) or with the connection. */
export type Quiescence =
  | 'none'        // updates flow
  | 'requested'   // our host asked to splice: no new HTLC of ours; our stfu leaves once our updates are settled
  | 'quiescing'   // one side sent stfu: that side sends no more updates; the other replies once its own are settled
  | 'quiescent'   // both sent stfu: only the splice negotiation (splice_init … tx_signatures, or tx_abort)
  | 'signing'     // a splice's signatures are still being exchanged after a reconnection: no updates either

/** Phases in which HTLC updates and commitment_signed/revoke_and_ack are exchanged. */
export const OPERATING_PHASES: readonly Phase[] = ['normal', 'shutting_down']

/** Phases after which the channel machine sends nothing more on this channel. */
export const FINAL_PHASES: readonly Phase[] = ['closing', 'awaiting_remote_close', 'failed', 'abandoned', 'closed']

export const isOperating = (p: Phase): boolean => OPERATING_PHASES.includes(p)
export const isFinal = (p: Phase): boolean => FINAL_PHASES.includes(p)
