// SHA-256 (FIPS 180-4) of many short messages with no allocation per message: the Merkle trees of
// stream ticks (protocol/stream) hash two or three messages per line item, tens of thousands per
// tick, and a general-purpose hash object per message (hash.ts's sha256) costs more in allocation and
// setup than in compression at these sizes. The caller passes the message as a range of a buffer it
// owns and a place to write the digest; the state, schedule and padding block are reused.
//
// The digests are sha256's, byte for byte (test/unit/protocol/crypto/sha256-into.test.ts checks this
// against @noble/hashes for every length up to several blocks).

const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
])
const IV = new Int32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19])

const H = new Int32Array(8)
const W = new Int32Array(64)
/** The last one or two blocks of a message: its tail, 0x80, zeros and its length in bits. */
const TAIL = new Uint8Array(128)

/** One compression of the 64 bytes of `b` from `at` into H. */
function compress (b: Uint8Array, at: number): void {
  for (let i = 0; i < 16; i++, at += 4) W[i] = (b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!
  for (let i = 16; i < 64; i++) {
    const w15 = W[i - 15]!
    const w2 = W[i - 2]!
    const s0 = ((w15 >>> 7) | (w15 << 25)) ^ ((w15 >>> 18) | (w15 << 14)) ^ (w15 >>> 3)
    const s1 = ((w2 >>> 17) | (w2 << 15)) ^ ((w2 >>> 19) | (w2 << 13)) ^ (w2 >>> 10)
    W[i] = (W[i - 16]! + s0 + W[i - 7]! + s1) | 0
  }
  let a = H[0]!; let b2 = H[1]!; let c = H[2]!; let d = H[3]!
  let e = H[4]!; let f = H[5]!; let g = H[6]!; let h = H[7]!
  for (let i = 0; i < 64; i++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))
    const t1 = (h + S1 + ((e & f) ^ (~e & g)) + K[i]! + W[i]!) | 0
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))
    const t2 = (S0 + ((a & b2) ^ (a & c) ^ (b2 & c))) | 0
    h = g; g = f; f = e; e = (d + t1) | 0
    d = c; c = b2; b2 = a; a = (t1 + t2) | 0
  }
  H[0] = (H[0]! + a) | 0; H[1] = (H[1]! + b2) | 0; H[2] = (H[2]! + c) | 0; H[3] = (H[3]! + d) | 0
  H[4] = (H[4]! + e) | 0; H[5] = (H[5]! + f) | 0; H[6] = (H[6]! + g) | 0; H[7] = (H[7]! + h) | 0
}

/** Writes SHA-256 of `msg[start, start + len)` to `out[outAt, outAt + 32)`. `out` may be `msg`
 *  (the message is read in full before the digest is written). */
export function sha256Into (msg: Uint8Array, start: number, len: number, out: Uint8Array, outAt: number): void {
  if (start < 0 || len < 0 || len >= 2 ** 29 || start + len > msg.length || outAt < 0 || outAt + 32 > out.length) {
    throw new RangeError(`sha256Into: range [${start}, ${start + len}) → [${outAt}, ${outAt + 32}) is outside the buffers`)
  }
  H.set(IV)
  const full = len - (len % 64)
  for (let at = 0; at < full; at += 64) compress(msg, start + at)
  const rest = len - full
  for (let i = 0; i < rest; i++) TAIL[i] = msg[start + full + i]!
  TAIL[rest] = 0x80
  const tailLen = rest < 56 ? 64 : 128
  TAIL.fill(0, rest + 1, tailLen - 8)
  // Length in bits as 64 bits big-endian; a message here is far below 2^29 bytes, so the top word is 0.
  const bits = len * 8
  TAIL[tailLen - 8] = 0; TAIL[tailLen - 7] = 0; TAIL[tailLen - 6] = 0; TAIL[tailLen - 5] = 0
  TAIL[tailLen - 4] = bits >>> 24; TAIL[tailLen - 3] = (bits >>> 16) & 0xff
  TAIL[tailLen - 2] = (bits >>> 8) & 0xff; TAIL[tailLen - 1] = bits & 0xff
  compress(TAIL, 0)
  if (tailLen === 128) compress(TAIL, 64)
  for (let i = 0; i < 8; i++) {
    const v = H[i]!
    out[outAt++] = v >>> 24; out[outAt++] = (v >>> 16) & 0xff; out[outAt++] = (v >>> 8) & 0xff; out[outAt++] = v & 0xff
  }
}
