// The cooperative closing transaction (BOLT #3 "Legacy Closing Transaction", used with
// `closing_signed`). Signed and finalized like a commitment: signFundingSpend / finalizeFundingSpend.
import { compareBytes } from '../crypto/hash.ts'
import { sat, type Msat, type Sat } from '../types.ts'
import type { FundingOutput, Tx, TxOutput } from './types.ts'

export interface ClosingParams {
  readonly funding: FundingOutput
  /** `scriptpubkey` from our `shutdown`. */
  readonly localScript: Uint8Array
  /** `scriptpubkey` from the peer's `shutdown`. */
  readonly remoteScript: Uint8Array
  /** Final balances (no HTLCs may remain at closing). */
  readonly localMsat: Msat
  readonly remoteMsat: Msat
  /** `fee_satoshis` from closing_signed, paid by the opener. */
  readonly feeSat: Sat
  readonly localIsOpener: boolean
  /** The signer's own dust_limit_satoshis: "MUST remove any output below its own dust_limit_satoshis". */
  readonly dustLimitSat: Sat
}

/** What a closing transaction pays each side. An output below the dust limit is left out: its
 *  balance is not paid to anyone but goes to the miners with the fee (`trimmed…Sat`). */
export interface ClosingAmounts {
  readonly localSat: Sat
  readonly remoteSat: Sat
  readonly trimmedLocalSat: Sat
  readonly trimmedRemoteSat: Sat
}

export interface ClosingTx {
  readonly tx: Tx
  /** vout of our output, or undefined if it was dust (or zero). */
  readonly localVout: number | undefined
  readonly remoteVout: number | undefined
}

/**
 * BOLT #3: "version: 2; locktime: 0; txin[0] sequence: 0xFFFFFFFF; txout amount: final balance to be paid
 * to one node (minus fee_satoshis from closing_signed, if this peer funded the channel)". Requirements:
 * "MUST round each output down to whole satoshis. MUST subtract the fee given by fee_satoshis from the
 * output to the funder. MUST remove any output below its own dust_limit_satoshis." Outputs in BIP 69 order.
 * Throws (programmer error) if the opener's balance cannot pay the fee.
 */
export function buildClosingTx (p: ClosingParams): ClosingTx {
  const a = closingAmounts(p)
  const outs: Array<{ out: TxOutput, who: 'local' | 'remote' }> = []
  if (a.localSat > 0) outs.push({ out: { valueSat: a.localSat, script: p.localScript }, who: 'local' })
  if (a.remoteSat > 0) outs.push({ out: { valueSat: a.remoteSat, script: p.remoteScript }, who: 'remote' })
  outs.sort((a, b) => (a.out.valueSat - b.out.valueSat) || compareBytes(a.out.script, b.out.script))
  const tx: Tx = {
    version: 2,
    locktime: 0,
    inputs: [{ txid: p.funding.txid, vout: p.funding.vout, sequence: 0xffffffff, scriptSig: new Uint8Array(0), witness: [] }],
    outputs: outs.map(o => o.out),
  }
  const vout = (who: 'local' | 'remote'): number | undefined => {
    const i = outs.findIndex(o => o.who === who); return i < 0 ? undefined : i
  }
  return { tx, localVout: vout('local'), remoteVout: vout('remote') }
}

/**
 * The amounts of the closing transaction (BOLT #3, as buildClosingTx builds it): "MUST round each
 * output down to whole satoshis. MUST subtract the fee given by fee_satoshis from the output to the
 * funder. MUST remove any output below its own dust_limit_satoshis." Throws (programmer error) if the
 * opener's balance cannot pay the fee.
 */
export function closingAmounts (
  p: Pick<ClosingParams, 'localMsat' | 'remoteMsat' | 'feeSat' | 'localIsOpener' | 'dustLimitSat'>,
): ClosingAmounts {
  let local = Math.floor(p.localMsat / 1000)
  let remote = Math.floor(p.remoteMsat / 1000)
  if (p.localIsOpener) local -= p.feeSat
  else remote -= p.feeSat
  if (local < 0 || remote < 0) throw new RangeError('buildClosingTx: the opener cannot pay the closing fee')
  const paid = (v: number): Sat => sat(v >= p.dustLimitSat ? v : 0)
  return {
    localSat: paid(local), remoteSat: paid(remote), trimmedLocalSat: sat(local - paid(local)), trimmedRemoteSat: sat(remote - paid(remote)),
  }
}
