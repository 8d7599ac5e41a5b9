// Signatures and verifications per second for each Curve backend: `npx tsx scripts/bench-curve.ts [N]`.
// Numbers only indicate relative speed on this machine; nothing asserts on them.
import { randomBytes } from 'node:crypto'
import { nobleCurve } from '../protocol/crypto/noble.ts'
import { tinyCurve } from '../protocol/crypto/tiny.ts'
import type { Curve } from '../protocol/crypto/index.ts'

const n = Number(process.argv[2] ?? 2000)

function bench (curve: Curve): { sign: number, verify: number } {
  const priv = new Uint8Array(randomBytes(32))
  const pub = curve.pubkey(priv)
  const hashes = Array.from({ length: n }, () => new Uint8Array(randomBytes(32)))
  for (let i = 0; i < 50; i++) curve.verify(curve.sign(hashes[i]!, priv), hashes[i]!, pub) // warm up
  let t0 = performance.now()
  const sigs = hashes.map(h => curve.sign(h, priv))
  const sign = n / ((performance.now() - t0) / 1000)
  t0 = performance.now()
  let ok = 0
  sigs.forEach((s, i) => { if (curve.verify(s, hashes[i]!, pub)) ok++ })
  const verify = n / ((performance.now() - t0) / 1000)
  if (ok !== n) throw new Error(`${curve.name}: ${n - ok} signatures failed to verify`)
  return { sign, verify }
}

for (const curve of [nobleCurve, tinyCurve]) {
  const r = bench(curve)
  process.stdout.write(`${curve.name.padEnd(6)} sign ${Math.round(r.sign).toString().padStart(7)}/s   verify ` +
    `${Math.round(r.verify).toString().padStart(7)}/s   (n=${n})\n`)
}
