// The cooperative closing transaction once both sides signed the same fee: the BOLT #3 closing
// transaction of the variant the peer's signature is valid for, with both signatures in the 2-of-2
// witness, and what it pays. The channel machine stores it with the agreement (state.closing.signedTx)
// and hands it to the host in `closing_agreed`: either side may broadcast it, and a host that restarts
// before it did still has it. Built here with protocol/tx; the signatures come from the signer and the peer.
import { buildClosingTx, closingAmounts } from '../tx/closing.ts'
import { fundingOutput } from '../tx/funding.ts'
import { txHex, txid } from '../tx/serialize.ts'
import { finalizeFundingSpend } from '../tx/sign.ts'
import { hexToBytes, sat, type Sat } from '../types.ts'
import type { ClosingRef } from './signer.ts'
import { remoteParams, type ChannelSetup, type SignedClosing } from './state.ts'

/** The closing transaction of `c` (its variant `c.dustLimitSat`) with our signature and the peer's. */
export function signedClosingTx (
  setup: ChannelSetup, c: ClosingRef & { dustLimitSat: Sat }, ourSignature: string, theirSignature: string,
): SignedClosing {
  if (setup.funding === undefined) throw new Error('signedClosingTx: the channel has no funding outpoint')
  const localPub = hexToBytes(setup.local.fundingPubkey)
  const remotePub = hexToBytes(remoteParams(setup).fundingPubkey)
  const funding = fundingOutput(setup.funding.txid, setup.funding.outputIndex, setup.capacitySat, localPub, remotePub)
  const balances = {
    localMsat: c.spec.toLocalMsat, remoteMsat: c.spec.toRemoteMsat, feeSat: c.feeSat,
    localIsOpener: setup.isFunder, dustLimitSat: c.dustLimitSat,
  }
  const built = buildClosingTx({ funding, localScript: hexToBytes(c.localScript), remoteScript: hexToBytes(c.remoteScript), ...balances })
  const tx = finalizeFundingSpend(built.tx, funding,
    { pubkey: localPub, sig64: hexToBytes(ourSignature) },
    { pubkey: remotePub, sig64: hexToBytes(theirSignature) })
  const paid = (vout: number | undefined): number => vout === undefined ? 0 : built.tx.outputs[vout]!.valueSat
  const localSat = paid(built.localVout)
  const remoteSat = paid(built.remoteVout)
  const trimmed = closingAmounts(balances)
  return {
    txid: txid(tx), hex: txHex(tx), localSat: sat(localSat), remoteSat: sat(remoteSat),
    feeSat: sat(setup.capacitySat - localSat - remoteSat), agreedFeeSat: c.feeSat,
    trimmedLocalSat: trimmed.trimmedLocalSat, trimmedRemoteSat: trimmed.trimmedRemoteSat, dustLimitSat: c.dustLimitSat,
  }
}
