// What a force close takes from one party's channel balance and what the holder's commitment pays
// that party, for the accounting export (DESIGN.md "Accounting"): the balance is the party's side of
// the holder's latest commitment; the output is BOLT #3's, the same arithmetic as buildCommitment
// (protocol/tx/commitment.ts): "Subtract this base fee from the funder" (and, with anchors, the two
// anchor outputs), rounded down to the satoshi, and no output "less than dust_limit_satoshis set by
// the transaction owner". The rest of the balance is the row's fee.
import type { ChannelType } from '../wire/index.ts'
import { funderCostMsat } from '../channel/fees.ts'
import type { CommitmentSpec } from '../channel/state.ts'

export interface ForceCloseAmounts {
  /** The party's balance in the holder's commitment: what leaves the channel. */
  balanceMsat: number
  /** What the holder's commitment pays the party (its to_local or to_remote output; 0 if trimmed). */
  onchainSat: number
}

/**
 * `spec` is the holder's (our) latest commitment in our perspective; `party` whose balance is asked
 * ('local': ours, 'remote': the peer's); `holderIsFunder`: we opened the channel; `dustLimitSat`: ours.
 */
export function forceCloseAmounts (
  type: ChannelType, spec: CommitmentSpec, party: 'local' | 'remote', holderIsFunder: boolean, dustLimitSat: number,
): ForceCloseAmounts {
  const balanceMsat = party === 'local' ? spec.toLocalMsat : spec.toRemoteMsat
  const partyFunded = (party === 'local') === holderIsFunder
  const afterFeeMsat = partyFunded ? Math.max(0, balanceMsat - funderCostMsat(type, spec, 'local', dustLimitSat)) : balanceMsat
  const outputSat = Math.floor(afterFeeMsat / 1000)
  return { balanceMsat, onchainSat: outputSat >= dustLimitSat ? outputSat : 0 }
}
