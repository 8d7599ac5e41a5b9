// Canonical JSON for hashing: the same value always gives the same bytes, on any machine. Object
// keys sorted by UTF-16 code units (as RFC 8785 JCS does), no whitespace, and only plain JSON values:
// a record with undefined, NaN, a bigint or a class instance is a programmer error (it would hash one
// way and export another).
export function canonicalJson (value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`canonicalJson: non-finite number ${value}`)
    return JSON.stringify(value)
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const obj = value as Record<string, unknown>
    const ks = Object.keys(obj).sort()
    return `{${ks.map(k => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`
  }
  throw new TypeError(`canonicalJson: not a plain JSON value (${typeof value})`)
}
