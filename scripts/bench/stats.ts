// Pure helpers of the benchmark: summaries of repeated runs, percentiles, the balance check and the
// terminal table. No I/O, so a unit test can run them (test/unit/scripts/bench/).

/** A figure measured several times: its median, min and max, and every run. */
export interface Figure { median: number; min: number; max: number; runs: number[] }

export function figure (runs: number[]): Figure {
  if (runs.length === 0) throw new Error('figure: no runs')
  const s = [...runs].sort((a, b) => a - b)
  // Median of an even count: the mean of the two middle values.
  const mid = s.length >> 1
  const median = s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
  return { median, min: s[0]!, max: s[s.length - 1]!, runs }
}

/** The p-th percentile (0 < p ≤ 100), nearest-rank method: the smallest value with at least p% of
 *  the values at or below it. */
export function percentile (values: number[], p: number): number {
  if (values.length === 0) throw new Error('percentile: no values')
  const s = [...values].sort((a, b) => a - b)
  const rank = Math.max(1, Math.ceil(p / 100 * s.length))
  return s[rank - 1]!
}

/** One channel as both ends see it (hub and client), balances in msat. */
export interface ChannelView {
  channelId: string
  capacitySat: number
  hub: { localMsat: number; remoteMsat: number; htlcs: number } | undefined
  client: { localMsat: number; remoteMsat: number; inFlightMsat: number } | undefined
}

/** Every way the end state can be wrong: a channel one side does not know, balances that disagree,
 *  HTLCs still in flight, or balances that do not add up to the capacity. Empty: all is well. */
export function balanceProblems (views: ChannelView[]): string[] {
  const out: string[] = []
  for (const v of views) {
    const id = v.channelId.slice(0, 16)
    if (v.hub === undefined) { out.push(`${id}: unknown to the hub`); continue }
    if (v.client === undefined) { out.push(`${id}: unknown to its client`); continue }
    if (v.hub.htlcs !== 0 || v.client.inFlightMsat !== 0) out.push(
      `${id}: HTLCs still in flight (hub ${v.hub.htlcs}, client ${v.client.inFlightMsat} msat)`
    )
    if (v.hub.localMsat !== v.client.remoteMsat || v.hub.remoteMsat !== v.client.localMsat) {
      out.push(
        `${id}: hub says ${v.hub.localMsat}/${v.hub.remoteMsat}, client says ${v.client.remoteMsat}/${v.client.localMsat} (hub/client msat)`
      )
    }
    const sum = v.hub.localMsat + v.hub.remoteMsat
    if (sum !== v.capacitySat * 1000) out.push(`${id}: balances sum to ${sum} msat, capacity is ${v.capacitySat * 1000}`)
  }
  return out
}

const num = (x: number, digits: number): string => x.toLocaleString(
  'en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits },
)

/** A fixed-width table: name | median | min | max | unit | note. */
export function table (rows: Array<{ name: string; f: Figure | undefined; unit: string; digits: number; note?: string }>): string {
  const cells = rows.map(r => [
    r.name, r.f === undefined ? 'n/a' : num(r.f.median, r.digits), r.f === undefined ? '' : num(r.f.min, r.digits),
    r.f === undefined ? '' : num(r.f.max, r.digits), r.unit, r.note ?? '',
  ])
  const head = ['figure', 'median', 'min', 'max', 'unit', 'note']
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map(c => c[i]!.length)))
  const line = (c: string[]): string => c.map(
    (x, i) => (i >= 1 && i <= 3 ? x.padStart(widths[i]!) : x.padEnd(widths[i]!))
  ).join('  ').trimEnd()
  return [line(head), widths.map(w => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n')
}
