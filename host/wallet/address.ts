// Addresses on the wallet's network (regtest: the wallet's keys and every address it hands out are
// regtest ones, host/wallet/keys.ts). Used where an address comes from outside: an SDK argument or an
// admin request names where a payment or a payout goes.
import { address as baddress, networks } from 'bitcoinjs-lib'
import { z } from 'zod'
import { err, ok, type Result } from '../../protocol/result.ts'
import { bytesToHex } from '../../protocol/types.ts'

/** The longest address: a bech32m segwit v1–16 program of 40 bytes is 74 characters on regtest. */
export const MAX_ADDRESS_CHARS = 100

/** The output script (hex) an address pays, or why it is not an address of our network. */
export function addressScript (address: string): Result<string, string> {
  try {
    return ok(bytesToHex(baddress.toOutputScript(address, networks.regtest)))
  } catch (e) {
    return err(`not a regtest address (${(e as Error).message})`)
  }
}

/** Any standard output type, on regtest (bcrt1…, or base58 m/n/2…). */
export const regtestAddress = z.string().max(MAX_ADDRESS_CHARS).refine(a => addressScript(a).ok,
  { error: 'must be a regtest address (bcrt1…, or base58 m…, n…, 2…)' })
