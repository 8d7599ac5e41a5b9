// A minimal typed event emitter that runs in Node and in browsers (no node:events). A listener that
// throws (or returns a promise that rejects) does not stop the others or the transport: the error is
// handed to `onListenerError`.

/** A listener may return a promise (it counts for deliver(): see below); any other value is ignored. */
export type Listener<A extends unknown[]> = (...args: A) => void

export class Emitter<E extends { [K in keyof E]: unknown[] }> {
  private readonly listeners: { [K in keyof E]?: Array<Listener<E[K]>> } = {}

  constructor (private readonly onListenerError: (e: unknown) => void = e => { queueMicrotask(() => { throw e }) }) {}

  on<K extends keyof E> (event: K, fn: Listener<E[K]>): () => void {
    (this.listeners[event] ??= []).push(fn)
    return () => this.off(event, fn)
  }

  once<K extends keyof E> (event: K, fn: Listener<E[K]>): () => void {
    const off = this.on(event, ((...args: E[K]) => { off(); fn(...args) }) as Listener<E[K]>)
    return off
  }

  off<K extends keyof E> (event: K, fn: Listener<E[K]>): void {
    const list = this.listeners[event]
    if (list === undefined) return
    const i = list.indexOf(fn)
    if (i >= 0) list.splice(i, 1)
  }

  emit<K extends keyof E> (event: K, ...args: E[K]): void {
    for (const fn of [...(this.listeners[event] ?? [])]) {
      try {
        const r: unknown = fn(...args)
        if (r instanceof Promise) r.catch(e => { this.onListenerError(e) })
      } catch (e) { this.onListenerError(e) }
    }
  }

  /** Calls every listener of `event` and waits for the promises they return: true if each returned
   *  or resolved (also when there is no listener), false if one threw or rejected. */
  async deliver<K extends keyof E> (event: K, ...args: E[K]): Promise<boolean> {
    const results = await Promise.allSettled([...(this.listeners[event] ?? [])].map(async fn => { await (fn(...args) as unknown) }))
    let taken = true
    for (const r of results) if (r.status === 'rejected') { taken = false; this.onListenerError(r.reason) }
    return taken
  }

  removeAll (): void {
    for (const k of Object.keys(this.listeners) as Array<keyof E>) delete this.listeners[k]
  }
}
