// Key layout: namespaces separated by '/', counters zero-padded so key order is numeric order.
// chan/<channel id>/state          latest channel state
// chan/<channel id>/monitor/<n>    the n-th monitor update (append-only)
// fwd/<...>                        forwarding records (scenario 9)
// audit/entry/<n>, audit/head      the hash-chained audit log
// mon/<channel id>                 the chain monitor's checkpoint (host/monitor), mon-tip: its recent blocks
// mon-idx/<channel id>             the monitor's summary: funding outpoint, checkpoint seq, anything
//                                  at stake (host/monitor/checkpoint.ts; lets startup skip idle monitors)
// chan-index/<channel id>          every stored channel and its peer (hub/channels/records.ts)
// preimage/<payment hash>          every preimage a channel learned (hub/channels/records.ts)

/** 16 digits: 10^16 updates at 10^6/s lasts 300 years; fits a safe integer. */
const COUNTER_DIGITS = 16
export function counter (n: number): string {
  if (!Number.isSafeInteger(n) || n < 0 || n >= 10 ** COUNTER_DIGITS) throw new RangeError(`key counter out of range: ${n}`)
  return String(n).padStart(COUNTER_DIGITS, '0')
}
const segment = (s: string): string => {
  if (!/^[0-9A-Za-z_.:-]{1,128}$/.test(s)) throw new TypeError(`key segment ${JSON.stringify(s)} must be [0-9A-Za-z_.:-]{1,128}`)
  return s
}

export const keys = {
  channelPrefix: (channelId: string) => `chan/${segment(channelId)}/`,
  channelState: (channelId: string) => `chan/${segment(channelId)}/state`,
  monitorPrefix: (channelId: string) => `chan/${segment(channelId)}/monitor/`,
  monitorUpdate: (channelId: string, n: number) => `chan/${segment(channelId)}/monitor/${counter(n)}`,
  forward: (...parts: string[]) => `fwd/${parts.map(segment).join('/')}`,
  auditEntry: (n: number) => `audit/entry/${counter(n)}`,
  auditEntryPrefix: 'audit/entry/',
  auditHead: 'audit/head',
  monitorState: (channelId: string) => `mon/${segment(channelId)}`,
  monitorStatePrefix: 'mon/',
  monitorTip: 'mon-tip',
} as const
