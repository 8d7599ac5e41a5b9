// A child process must not outlive the process that started it. A parent that stops normally stops
// its children itself; one that is killed (SIGKILL, or a signal whose default action ends it before
// any of its code runs) cannot, so a tiny detached shell watches for it: it polls the parent's pid and
// the child's, and once the parent is gone signals the child. It exits by itself when the child does.
// `kill -0` only tests that a pid exists. Used for the managed btcd (host/chain/btcd/node.ts) and for
// the hub processes the demo and the tests start (scripts/lib/hub.ts).
import { spawn, type ChildProcess } from 'node:child_process'

export interface OrphanWatchdogOptions {
  parentPid: number
  childPid: number
  /** KILL for a child with nothing to save; TERM lets it stop cleanly. */
  signal: 'KILL' | 'TERM'
  /** How often the shell looks: how long an orphan may survive its parent. */
  periodSeconds: number
  /** A directory to remove once the child was signalled (a temporary data directory). */
  removeDir?: string
}

/** Starts the watchdog; kill it (SIGKILL) when the child is stopped normally. */
export function startOrphanWatchdog (o: OrphanWatchdogOptions): ChildProcess {
  const rm = o.removeDir === undefined ? '' : `; rm -rf '${o.removeDir.replace(/'/g, "'\\''")}'`
  const script = `while kill -0 ${o.parentPid} 2>/dev/null && kill -0 ${o.childPid} 2>/dev/null; do sleep ${o.periodSeconds}; done
if kill -0 ${o.parentPid} 2>/dev/null; then exit 0; fi
kill -${o.signal} ${o.childPid} 2>/dev/null${rm}`
  const w = spawn('sh', ['-c', script], { detached: true, stdio: 'ignore' })
  w.unref()
  return w
}
