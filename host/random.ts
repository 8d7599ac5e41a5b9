// Randomness for the host side (hub and SDK alike): channel seeds, temporary channel ids, preimages,
// payment secrets, handshake challenges, retry jitter. protocol/ takes randomness as arguments
// (DESIGN.md rule 1); these are where it comes from. The Web Crypto API (globalThis.crypto), so the
// same code runs in Node and in a browser.

/** Web Crypto fills at most this many bytes per getRandomValues call (a QuotaExceededError beyond). */
const MAX_BYTES_PER_CALL = 65_536

/** `n` bytes from the platform's cryptographic random source. */
export function randomBytes (n: number): Uint8Array {
  const b = new Uint8Array(n)
  for (let i = 0; i < n; i += MAX_BYTES_PER_CALL) globalThis.crypto.getRandomValues(b.subarray(i, Math.min(n, i + MAX_BYTES_PER_CALL)))
  return b
}

/** 32 random bytes: a key, a seed, a preimage, a channel id. */
export const random32 = (): Uint8Array => randomBytes(32)

/** A uniform random number in [0, 1) from the cryptographic source (for jitter). */
export function randomUnit (): number {
  const b = new Uint32Array(1)
  globalThis.crypto.getRandomValues(b)
  return b[0]! / 2 ** 32
}
