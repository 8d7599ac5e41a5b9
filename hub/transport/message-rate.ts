// A session's message rate limit (transport config peerMessagesPerSecond / peerMessageBurst): a token
// bucket holding up to `burst` messages, refilled at `perSecond`. A message takes one token whether or
// not one is left; the balance may go below zero by one more burst. What the caller does:
//   'ok'      — within the limit;
//   'warn'    — the first message over the limit since the bucket was last full: tell the peer;
//   'over'    — over the limit, already warned: carry on (a dropped channel message would
//               desynchronise the channel) until…
//   'cut'     — another burst's worth over the limit: disconnect.
// A peer that sends faster than `perSecond` on average sinks by the difference every second, so it
// reaches 'cut' however slightly it exceeds the rate; a burst within `burst` costs nothing.
export type RateVerdict = 'ok' | 'warn' | 'over' | 'cut'

export class MessageRate {
  private tokens: number
  private at: number
  private warned = false

  constructor (private readonly perSecond: number, private readonly burst: number, private readonly now: () => number) {
    this.tokens = burst
    this.at = now()
  }

  take (): RateVerdict {
    const t = this.now()
    this.tokens = Math.min(this.burst, this.tokens + (t - this.at) * this.perSecond / 1000)
    this.at = t
    if (this.tokens >= this.burst) this.warned = false
    this.tokens -= 1
    if (this.tokens >= 0) return 'ok'
    if (this.tokens < -this.burst) return 'cut'
    if (this.warned) return 'over'
    this.warned = true
    return 'warn'
  }
}
