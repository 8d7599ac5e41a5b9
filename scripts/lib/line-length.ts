// How long a line of TypeScript may be: 140 characters (code points). A reader sees a whole line of
// product code without scrolling, and a diff of two versions side by side still fits a screen.
// test/unit/line-length.test.ts enforces it; scripts/rewrap-lines.ts rewraps what exceeds it.
//
// Exempt: a comment line inside a quotation of a BOLT (a comment that names "BOLT" and the line within
// its double quotes), kept as the specification writes it so that it can be searched for there; and in
// test/, the line that opens a test (`t.test('…'`), whose name test/SCENARIOS.md quotes and a reader
// searches for, so it stays whole on one line.

/** The longest line, in characters, of every .ts file. */
export const LINE_BOUND = 140

/** Characters, not UTF-16 units: '—' and '…' count one each. */
export const lineLength = (line: string): number => [...line].length

const COMMENT_LINE = /^\s*(\/\/|\/\*|\*)/

/** Line numbers (0-based) of the comment lines that lie inside a quotation in a comment citing a BOLT:
 *  a quote opens at a `"` and closes at the next one, over consecutive comment lines. */
export function quotedBoltLines (lines: string[]): Set<number> {
  const out = new Set<number>()
  let i = 0
  while (i < lines.length) {
    if (!COMMENT_LINE.test(lines[i]!)) { i++; continue }
    const start = i
    while (i < lines.length && COMMENT_LINE.test(lines[i]!)) i++
    const run = lines.slice(start, i)
    if (!run.some(l => /\bBOLT\b/.test(l))) continue
    let open = false
    run.forEach((l, k) => {
      const quotes = (l.match(/"/g) ?? []).length
      if (open || quotes > 0) out.add(start + k)
      if (quotes % 2 === 1) open = !open
    })
  }
  return out
}

/** A line that opens a test and names it. */
export const TEST_NAME_LINE = /^\s*t\.test\(\s*['"`]/

/** The lines of `text` (the file `file`, repo-relative) over the bound that no exemption covers:
 *  1-based line numbers and lengths. */
export function longLines (file: string, text: string, bound = LINE_BOUND): Array<{ line: number; length: number }> {
  const lines = text.split('\n')
  const quoted = quotedBoltLines(lines)
  const inTest = file.split(/[\\/]/)[0] === 'test'
  const out: Array<{ line: number; length: number }> = []
  lines.forEach((l, i) => {
    const length = lineLength(l)
    if (length > bound && !quoted.has(i) && !(inTest && TEST_NAME_LINE.test(l))) out.push({ line: i + 1, length })
  })
  return out
}
