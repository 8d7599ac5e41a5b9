// A bounded wait for tests: a promise's value, or a fallback once the time is up. The timer is cleared
// as soon as the promise settles, so a finished test never keeps its process alive until the bound.

/** `p`'s value, or `fallback` once `ms` passed without it. */
export async function orAfter<T, F> (p: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const late = new Promise<F>(resolve => { timer = setTimeout(() => resolve(fallback), ms) })
  try {
    return await Promise.race([p, late])
  } finally {
    clearTimeout(timer)
  }
}
