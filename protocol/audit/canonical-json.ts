// Canonical JSON for hashing (audit entries, receipts): the same value always gives the same bytes,
// on any machine. Object keys sorted by UTF-16 code units (as RFC 8785 JCS does), no whitespace, and only plain JSON values:
// a record with undefined, NaN, a bigint or a class instance is a programmer error (it would hash one
// way and export another).
//
// One pass, one string built by appending (it runs for every audit entry, on the hub's write path).
export function canonicalJson (value: unknown): string {
  switch (typeof value) {
    case 'string': return JSON.stringify(value)
    case 'boolean': return value ? 'true' : 'false'
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`canonicalJson: non-finite number ${value}`)
      return JSON.stringify(value)
    case 'object': {
      if (value === null) return 'null'
      if (Array.isArray(value)) {
        let out = '['
        for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + canonicalJson(value[i])
        return out + ']'
      }
      // A plain object, or one without a prototype (as a safe JSON decoder builds them).
      const proto: unknown = Object.getPrototypeOf(value)
      if (proto !== Object.prototype && proto !== null) break
      const obj = value as Record<string, unknown>
      const ks = Object.keys(obj).sort()
      let out = '{'
      for (let i = 0; i < ks.length; i++) out += (i === 0 ? '' : ',') + JSON.stringify(ks[i]) + ':' + canonicalJson(obj[ks[i]!])
      return out + '}'
    }
  }
  throw new TypeError(`canonicalJson: not a plain JSON value (${typeof value})`)
}
