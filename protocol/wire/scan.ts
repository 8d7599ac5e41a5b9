// A linear pre-scan of a JSON text, before JSON.parse: refuses nesting deeper than MAX_JSON_DEPTH,
// objects of more than MAX_JSON_OBJECT_KEYS fields, arrays of more than MAX_JSON_ARRAY_ITEMS items,
// and duplicate keys in one object. So no parser or validator ever walks a frame of 64 KiB of `[`,
// or allocates 30,000 items or keys for a message that has at most a few hundred; duplicate keys are
// refused because JSON.parse silently keeps the last one, and a frame should mean one thing to every
// reader (and every logger) that sees it.
// It does not check the rest of the grammar: JSON.parse does, right after.
import { MAX_JSON_ARRAY_ITEMS, MAX_JSON_DEPTH, MAX_JSON_OBJECT_KEYS } from '../limits.ts'

export type ScanResult = { ok: true } | { ok: false, path: string, why: string }

/** An open object or array: the field it is the value of (for errors), its keys so far and whether a
 *  key comes next (objects), and its commas (arrays). */
type Container = { object: boolean, name: string, keys: Set<string> | null, lastKey: string, expectKey: boolean, commas: number }

export function scanJson (text: string): ScanResult {
  const stack: Container[] = []
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 0x22 /* " */) {
      // Skip the string with native indexOf: most of a frame is hex inside strings.
      const start = i + 1
      i = closingQuote(text, start)
      const top = stack[stack.length - 1]
      if (top?.object === true && top.expectKey) {
        top.expectKey = false
        const raw = text.slice(start, i)
        const key = raw.includes('\\') ? unescapeKey(raw) : raw
        if (key === null) continue // invalid escape: JSON.parse reports it
        top.keys ??= new Set()
        if (top.keys.size >= MAX_JSON_OBJECT_KEYS) return refuse(top.name, `has more than ${MAX_JSON_OBJECT_KEYS} fields`)
        if (top.keys.has(key)) return refuse(join(top.name, key), 'appears twice')
        top.keys.add(key)
        top.lastKey = key
      }
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      const parent = stack[stack.length - 1]
      const name = parent === undefined ? '' : parent.object ? join(parent.name, parent.lastKey) : `${parent.name}[${parent.commas}]`
      if (stack.length >= MAX_JSON_DEPTH) return refuse(name, `is nested deeper than ${MAX_JSON_DEPTH} levels`)
      stack.push({ object: c === 0x7b, name, keys: null, lastKey: '', expectKey: c === 0x7b, commas: 0 })
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop()
    } else if (c === 0x2c /* , */) {
      const top = stack[stack.length - 1]
      if (top?.object === true) top.expectKey = true
      // n commas separate n + 1 items (a trailing comma is JSON.parse's to refuse).
      else if (top !== undefined && ++top.commas >= MAX_JSON_ARRAY_ITEMS) {
        return refuse(top.name, `has more than ${MAX_JSON_ARRAY_ITEMS} items`)
      }
    }
  }
  return { ok: true }
}

/** `path` names the field as far as the scan knows it (no message type yet): `htlc_signatures`,
 *  `witnesses[3]`, `metadata.reference`; '' is the message itself. */
function refuse (path: string, why: string): ScanResult {
  return { ok: false, path, why }
}
const join = (parent: string, key: string): string => (parent === '' ? key : `${parent}.${key}`)

/** Index of the quote that ends the string starting at `from` (one not escaped by an odd number of
 *  backslashes), or the text's length if there is none. */
function closingQuote (text: string, from: number): number {
  for (let j = from; ;) {
    const q = text.indexOf('"', j)
    if (q < 0) return text.length
    let backslashes = 0
    for (let k = q - 1; k >= from && text.charCodeAt(k) === 0x5c; k--) backslashes++
    if (backslashes % 2 === 0) return q
    j = q + 1
  }
}

function unescapeKey (raw: string): string | null {
  try {
    const key: unknown = JSON.parse(`"${raw}"`)
    return typeof key === 'string' ? key : null
  } catch {
    return null
  }
}
