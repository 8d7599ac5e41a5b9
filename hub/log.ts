// The hub's structured log (pino): JSON lines on stdout, one event a line, each with its level, time and
// `event` name, then the event's own fields. Written synchronously, so the line before a fatal exit is
// out before the process ends. Secrets never go in an event; as a second line of defence, a field named
// after one (a preimage, a seed, a private or node key, a token, a secret) is replaced by "[redacted]"
// at the top level and one level down.
import { pino, type Level, type Logger } from 'pino'

export type LogLevel = Level
export type LogEvent = Record<string, unknown> & { event: string; level?: LogLevel }

/** Field names whose values are secrets. */
const SECRET_FIELDS = [
  'preimage', 'seed', 'key_seed', 'private_key', 'node_key', 'secret', 'token', 'admin_token', 'read_token', 'mnemonic',
]
export const REDACTED = '[redacted]'

/** Events logged above info unless they say their level: the hub stops, or something was refused or lost. */
const WARN = /(^fatal$)|(_failed|_error|_not_broadcast|_rejected|_refused|_violation|_lost|_stale)$/

export function levelOf (e: LogEvent): LogLevel {
  if (e.level !== undefined) return e.level
  if (e.event === 'fatal') return 'fatal'
  return WARN.test(e.event) ? 'warn' : 'info'
}

export interface HubLogger {
  log (e: Record<string, unknown>): void
  readonly pino: Logger
}

/** A logger writing to `fd` (stdout unless given) at `level` and above. */
export function createHubLogger (level: LogLevel = 'info', fd = 1): HubLogger {
  const logger = pino({
    level,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: label => ({ level: label }) },
    redact: { paths: [...SECRET_FIELDS, ...SECRET_FIELDS.map(f => `*.${f}`)], censor: REDACTED },
  }, pino.destination({ fd, sync: true }))
  return {
    pino: logger,
    log: e => {
      const { level: _level, ...fields } = e as LogEvent
      logger[levelOf(e as LogEvent)](fields)
    },
  }
}
