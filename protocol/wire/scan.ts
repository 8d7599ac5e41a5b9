// A linear pre-scan of a JSON text, before JSON.parse: refuses nesting deeper than MAX_JSON_DEPTH
// and duplicate keys in one object. Depth is checked first so no recursive parser or validator ever
// walks a frame of 64 KiB of `[`; duplicate keys are refused because JSON.parse silently keeps the
// last one, and a frame should mean one thing to every reader (and every logger) that sees it.
// It does not check the rest of the grammar: JSON.parse does, right after.
import { MAX_JSON_DEPTH } from '../limits.ts'

export type ScanResult = { ok: true } | { ok: false, path: string, why: string }

type Container = { object: boolean, keys: Set<string> | null, expectKey: boolean }

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
        if (top.keys.has(key)) return { ok: false, path: key, why: `duplicate field ${JSON.stringify(key.slice(0, 40))}` }
        top.keys.add(key)
      }
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (stack.length >= MAX_JSON_DEPTH) return { ok: false, path: '', why: `nested deeper than ${MAX_JSON_DEPTH} levels` }
      stack.push({ object: c === 0x7b, keys: null, expectKey: c === 0x7b })
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop()
    } else if (c === 0x2c /* , */) {
      const top = stack[stack.length - 1]
      if (top?.object === true) top.expectKey = true
    }
  }
  return { ok: true }
}

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
