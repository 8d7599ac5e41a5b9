// A client socket that stops the payment dance at a chosen message (not a test file). Armed with a
// plan, it counts the dance messages in each direction; at the planned one it freezes: 'before' holds
// that message and everything after it (it was sent and not received), 'after' delivers it and then
// holds everything (it was received). While frozen nothing moves either way — the test acts (a force
// close) on both parties exactly at that point of the dance. release() delivers what was held, in
// order, as a network would, and lets everything through from then on.
import { OPEN, type SocketFactory, type SocketLike } from '../../../client-sdk/transport/socket.ts'
import { wsSocketFactory } from '../../../client-sdk/node/socket.ts'
import { DANCE_TYPES, type CutPlan, type Direction } from '../../helpers/hub.ts'

export interface FreezeSwitch {
  factory: SocketFactory
  arm (plan?: CutPlan): void
  /** The dance messages seen since arm(), in order. */
  readonly trace: Array<{ direction: Direction; type: string }>
  readonly frozen: boolean
  release (): void
}

export function freezeSwitch (): FreezeSwitch {
  let plan: CutPlan | undefined
  let counts = { in: 0, out: 0 }
  let trace: Array<{ direction: Direction; type: string }> = []
  let frozen = false
  let released = false
  const held: Array<() => void> = []
  const typeOf = (data: unknown): string | undefined => {
    try {
      const t = (JSON.parse(String(data)) as { type?: unknown }).type; return typeof t === 'string' ? t : undefined
    } catch { return undefined }
  }
  /** Whether this frame is held ('before' freezes with it held). */
  const hold = (direction: Direction, data: unknown): boolean => {
    if (frozen) return true
    const type = typeOf(data)
    if (type === undefined || !DANCE_TYPES.has(type) || released) return false
    trace.push({ direction, type })
    const i = counts[direction]++
    if (plan === undefined || plan.direction !== direction || plan.index !== i) return false
    frozen = true
    if (plan.timing === 'before') return true
    return false
  }
  const factory: SocketFactory = async url => {
    const ws = await wsSocketFactory(url)
    return {
      get readyState () { return ws.readyState },
      get bufferedAmount () { return ws.bufferedAmount },
      send (data: string) {
        if (hold('out', data)) { held.push(() => { if (ws.readyState === OPEN) ws.send(data) }); return }
        ws.send(data)
      },
      close: (code?: number, reason?: string) => ws.close(code, reason),
      addEventListener (type: string, fn: (ev: never) => void) {
        if (type !== 'message') { (ws.addEventListener as (t: string, f: unknown) => void)(type, fn); return }
        ws.addEventListener('message', (ev: { data: unknown }) => {
          const deliver = (): void => { (fn as (e: { data: unknown }) => void)(ev) }
          if (hold('in', ev.data)) { held.push(deliver); return }
          deliver()
        })
      },
    } as SocketLike
  }
  return {
    factory,
    arm (p?: CutPlan) { plan = p; counts = { in: 0, out: 0 }; trace = []; frozen = false; released = false },
    get trace () { return trace },
    get frozen () { return frozen },
    release () {
      released = true
      frozen = false
      for (const f of held.splice(0)) f()
    },
  }
}
