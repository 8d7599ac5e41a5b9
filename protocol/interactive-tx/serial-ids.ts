// Our serial ids. BOLT #2: "`serial_id` is a randomly chosen number which uniquely identifies this
// input", and the transaction's inputs and outputs are sorted by it, so random ids keep the order
// from telling whose input is whose. protocol/ draws no randomness: the host passes 32 bytes of
// entropy and each id is a hash of it. The sender "if is the *initiator*: MUST send even `serial_id`s;
// if is the *non-initiator*: MUST send odd `serial_id`s".
import { sha256 } from '../crypto/hash.ts'
import { hexToBytes } from '../types.ts'
import type { Role } from './types.ts'

/** Ids are 48-bit: a safe integer in JSON, far from colliding among at most 504 entries. */
const ID_BYTES = 6

/** `count` distinct serial ids of the right parity for `role`, from `entropy` (32 bytes of hex). */
export function serialIds (entropy: string, role: Role, count: number): number[] {
  const seed = hexToBytes(entropy)
  const ids: number[] = []
  const seen = new Set<number>()
  for (let i = 0; ids.length < count; i++) {
    const h = sha256(Uint8Array.from([...seed, i >>> 24, (i >>> 16) & 0xff, (i >>> 8) & 0xff, i & 0xff]))
    let id = 0
    for (let k = 0; k < ID_BYTES; k++) id = id * 256 + h[k]!
    id = role === 'initiator' ? id - (id % 2) : id - (id % 2) + 1
    if (!seen.has(id)) { seen.add(id); ids.push(id) }
  }
  return ids
}

export const hasParity = (serialId: number, role: Role): boolean => serialId % 2 === (role === 'initiator' ? 0 : 1)
