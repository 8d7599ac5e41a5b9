// What the benchmark reads from the host: a process's resident memory and CPU time (Linux /proc),
// and how long one synced write takes on the disk that holds the data (it bounds every figure that
// waits for `sync: true` writes in a row).
import fs from 'node:fs'
import path from 'node:path'

export function rssBytes (pid: number | undefined | null): number {
  if (pid === undefined || pid === null) throw new Error('rss: no pid')
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))
  if (m === null) throw new Error('no VmRSS in /proc status')
  return Number(m[1]) * 1024
}

/** User + system CPU seconds a process has used (0 if it is gone). */
export function cpuSeconds (pid: number | undefined | null): number {
  if (pid === undefined || pid === null) return 0
  let stat: string
  try { stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8') } catch { return 0 }
  // Fields after the parenthesised command name (which may contain spaces): utime is field 14,
  // stime 15 (1-based, proc(5)), in clock ticks; Linux reports USER_HZ = 100.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(rest[11]) + Number(rest[12])) / 100
}

/** Median and p99 of `n` small synced writes (write + fsync) of a file in `dir`, in ms. */
export function fsyncMs (dir: string, n = 50): { p50: number; p99: number } {
  const file = path.join(dir, 'fsync-probe')
  const fd = fs.openSync(file, 'w')
  const ms: number[] = []
  try {
    const buf = Buffer.alloc(512, 1)
    for (let i = 0; i < n; i++) {
      const t0 = performance.now()
      fs.writeSync(fd, buf, 0, buf.length, i * buf.length)
      fs.fsyncSync(fd)
      ms.push(performance.now() - t0)
    }
  } finally { fs.closeSync(fd); fs.rmSync(file, { force: true }) }
  ms.sort((a, b) => a - b)
  return { p50: ms[Math.floor(n / 2)]!, p99: ms[Math.min(n - 1, Math.ceil(n * 0.99) - 1)]! }
}
