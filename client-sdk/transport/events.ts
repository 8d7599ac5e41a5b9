// A minimal typed event emitter that runs in Node and in browsers (no node:events). A listener that
// throws does not stop the others or the transport: the error is handed to `onListenerError`.

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
      try { fn(...args) } catch (e) { this.onListenerError(e) }
    }
  }

  removeAll (): void {
    for (const k of Object.keys(this.listeners) as Array<keyof E>) delete this.listeners[k]
  }
}
