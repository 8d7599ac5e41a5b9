// Reading a V8 CPU profile (the .cpuprofile JSON of `node --cpu-prof`): self time per function.
// Pure: the caller reads the file.

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
    const url = f.url.replace(/^file:\/\/.*?\/(node_modules|hub|protocol|client-sdk|scripts)\//, '$1/')
    const key = `${f.functionName || '(anonymous)'}\u0000${url === '' ? '(native)' : `${url}:${f.lineNumber + 1}`}`
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
