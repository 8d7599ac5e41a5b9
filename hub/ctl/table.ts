// hubctl's human output: aligned columns with a header, numbers right-aligned; amounts in sat with
// thousands separators; ids shortened to their first characters (the --json output keeps them whole).

export type Cell = string | number | boolean | null | undefined

export function table (header: readonly string[], rows: ReadonlyArray<readonly Cell[]>): string {
  if (rows.length === 0) return '(none)'
  const text = rows.map(r => r.map(c => (c === null || c === undefined ? '-' : String(c))))
  const isNumber = (c: Cell): boolean => typeof c === 'number' || c === null || c === undefined || (
    typeof c === 'string' && /^-?[\d,.]+$/.test(c)
  )
  const numeric = header.map((_, i) => rows.every(r => isNumber(r[i])))
  const widths = header.map((h, i) => Math.max(h.length, ...text.map(r => r[i]!.length)))
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd()
  return [line(header), line(widths.map(w => '-'.repeat(w))), ...text.map(line)].join('\n')
}

/** key: value lines, the keys aligned. */
export function fields (pairs: ReadonlyArray<readonly [string, Cell]>): string {
  const w = Math.max(...pairs.map(([k]) => k.length))
  return pairs.map(([k, v]) => `${(k + ':').padEnd(w + 1)} ${v === null || v === undefined ? '-' : String(v)}`).join('\n')
}

export const sat = (msat: number | null | undefined): string =>
  msat === null || msat === undefined ? '-' : Math.floor(msat / 1000).toLocaleString('en-US')
export const short = (id: string | null | undefined, n = 12): string => (id === null || id === undefined ? '-' : id.slice(0, n))
export const when = (ms: number | null | undefined): string => (ms === null || ms === undefined ? '-' : new Date(ms).toISOString())
