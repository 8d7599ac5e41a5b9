// Reading a V8 CPU profile (the .cpuprofile JSON of `node --cpu-prof`): self time and total (inclusive)
// time per function. Pure: the caller reads the file.

export interface CpuProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
}

export interface CpuProfile {
  nodes: CpuProfileNode[]
  samples: number[]
  /** Microseconds between consecutive samples. */
  timeDeltas: number[]
}

/** A function's name and place (`file:line`, repository-relative), NUL-separated. */
function keyOf (f: CpuProfileNode['callFrame']): string {
  const url = f.url.replace(/^file:\/\/.*?\/(node_modules|hub|protocol|client-sdk|scripts|host)\//, '$1/')
  return `${f.functionName || '(anonymous)'}\u0000${url === '' ? '(native)' : `${url}:${f.lineNumber + 1}`}`
}

export interface SelfTimeRow { name: string; where: string; selfMs: number; percent: number }

/** Functions (by name and location) ranked by the sampled time spent in them, excluding callees.
 *  '(idle)' is left out of the total: it is time the process waited (I/O, timers). */
export function topSelfTime (p: CpuProfile, top: number): { totalMs: number; idleMs: number; rows: SelfTimeRow[] } {
  const byId = new Map(p.nodes.map(n => [n.id, n]))
  const selfUs = new Map<string, number>()
  let totalUs = 0
  let idleUs = 0
  for (let i = 0; i < p.samples.length; i++) {
    const node = byId.get(p.samples[i]!)
    const dt = p.timeDeltas[i] ?? 0
    if (node === undefined) continue
    const f = node.callFrame
    if (f.functionName === '(idle)') { idleUs += dt; continue }
    totalUs += dt
    const key = keyOf(f)
    selfUs.set(key, (selfUs.get(key) ?? 0) + dt)
  }
  const rows = [...selfUs.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([key, us]) => {
      const [name, where] = key.split('\u0000') as [string, string]
      return { name, where, selfMs: us / 1000, percent: totalUs === 0 ? 0 : 100 * us / totalUs }
    })
  return { totalMs: totalUs / 1000, idleMs: idleUs / 1000, rows }
}

export interface TotalTimeRow { name: string; where: string; totalMs: number; percent: number }

/** Functions ranked by the sampled time spent in them or in what they called (inclusive time: where a
 *  cost like "receipts" really goes, which self time spreads over crypto, JSON and the socket). A
 *  function is counted once per sample however deep it recurses. `match`: only functions whose name
 *  it matches. '(idle)' is left out, as in topSelfTime. */
export function topTotalTime (p: CpuProfile, top: number, match?: RegExp): { totalMs: number; rows: TotalTimeRow[] } {
  const byId = new Map(p.nodes.map(n => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const totalUs = new Map<string, number>()
  let busyUs = 0
  for (let i = 0; i < p.samples.length; i++) {
    const leaf = byId.get(p.samples[i]!)
    const dt = p.timeDeltas[i] ?? 0
    if (leaf === undefined || leaf.callFrame.functionName === '(idle)') continue
    busyUs += dt
    const seen = new Set<string>()
    for (let n: CpuProfileNode | undefined = leaf; n !== undefined; n = byId.get(parent.get(n.id) ?? -1)) {
      const f = n.callFrame
      if (f.functionName === '(root)' || (match !== undefined && !match.test(f.functionName))) continue
      const key = keyOf(f)
      if (seen.has(key)) continue
      seen.add(key)
      totalUs.set(key, (totalUs.get(key) ?? 0) + dt)
    }
  }
  const rows = [...totalUs.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([key, us]) => {
      const [name, where] = key.split('\u0000') as [string, string]
      return { name, where, totalMs: us / 1000, percent: busyUs === 0 ? 0 : 100 * us / busyUs }
    })
  return { totalMs: busyUs / 1000, rows }
}
