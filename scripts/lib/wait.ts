// Waiting for a condition another process or the event loop makes true: polls, and a deadline only
// turns a hang into an error naming what was awaited (nothing here measures time).

/** Polls `cond` every `pollMs` until it holds; throws `timed out waiting for <what>` after `timeoutMs`. */
export async function waitFor (cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000, pollMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, pollMs))
  }
}
