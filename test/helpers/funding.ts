// What an honest node would report for a channel's funding: the output exactly as agreed (the 2-of-2
// P2WSH of both funding keys holding the capacity), unspent, at `depth`. For tests that feed a channel
// machine its chain by hand, and for an attacker that lies to its own machine about its fake funding.
// Built from protocol/tx directly, so that it describes the agreement, not the check under test.
import type { ChannelInput, ChannelSetup } from '../../protocol/channel/index.ts'
import { fundingScriptPubkey } from '../../protocol/tx/index.ts'
import { bytesToHex, hexToBytes } from '../../protocol/types.ts'

export type FundingDepthEvent = Extract<Extract<ChannelInput, { kind: 'chain' }>['event'], { type: 'funding_depth' }>

export function agreedFunding (setup: ChannelSetup, depth: number): FundingDepthEvent {
  const script = fundingScriptPubkey(hexToBytes(setup.local.fundingPubkey), hexToBytes(setup.remote!.fundingPubkey))
  return { type: 'funding_depth', depth, output: { scriptPubkey: bytesToHex(script), valueSat: setup.capacitySat, spent: false } }
}
