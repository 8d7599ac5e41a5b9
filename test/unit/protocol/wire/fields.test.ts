// Every field of every message: each way it can be wrong is refused, and the error names the field.
// Table-driven from the fixtures: BAD_VALUES lists the violations of each field kind.
import t from 'tap'
import { decodeFrame, MESSAGE_TYPES } from '../../../../protocol/wire/index.ts'
import * as L from '../../../../protocol/limits.ts'
import { BAD_VALUES, fieldsOf, kindOf, SAMPLES } from './samples.ts'

const frame = (o: unknown): string => JSON.stringify(o)

for (const type of MESSAGE_TYPES) {
  const sample: Record<string, unknown> = SAMPLES[type]
  t.test(`${type}: field violations are refused, naming the field`, async (t) => {
    for (const { name, optional } of fieldsOf(type)) {
      const path = `${type}.${name}`
      if (name === 'type') continue
      const kind = kindOf(type, name)!
      for (const bad of BAD_VALUES[kind]) {
        const r = decodeFrame(frame({ ...sample, [name]: bad }))
        const shown = JSON.stringify(bad)?.slice(0, 40)
        if (r.ok) { t.fail(`${path} = ${shown} was accepted`); continue }
        t.equal(r.error.reason, 'invalid_field', `${path} = ${shown}: invalid_field`)
        t.ok(r.error.path === path || r.error.path.startsWith(path + '.') || r.error.path.startsWith(path + '['),
          `${path} = ${shown}: error names the field (${r.error.path})`)
        t.ok(r.error.detail.startsWith(r.error.path + ': '), `detail starts with the path: ${r.error.detail.slice(0, 120)}`)
      }
      // A missing required field is refused; a missing optional one is not.
      const { [name]: _dropped, ...without } = sample
      const r = decodeFrame(frame(without))
      if (optional) t.ok(r.ok, `${path} is optional`)
      else t.match(r, { ok: false, error: { reason: 'invalid_field', path, detail: `${path}: is required` } }, `${path} is required`)
    }
    const extra = decodeFrame(frame({ ...sample, surprise: 1 }))
    t.match(extra, { ok: false, error: { reason: 'invalid_field', path: `${type}.surprise`, detail: `${type}.surprise: unknown field` } },
      'an extra field is refused')
  })
}

t.test('the messages of the brief say exactly why', async (t) => {
  const add = SAMPLES.update_add_htlc
  t.match(decodeFrame(frame({ ...add, amount_msat: 0 })), {
    ok: false, error: {
      reason: 'invalid_field', type: 'update_add_htlc', path: 'update_add_htlc.amount_msat',
      detail: 'update_add_htlc.amount_msat: must be ≥ 1 (got 0)',
    },
  })
  t.match(
    decodeFrame(frame({ ...add, amount_msat: 2 ** 53 })),
    { ok: false, error: { detail: /amount_msat: must be an integer \(got 9007199254740992\)|must be ≤/ } },
  )
  t.match(
    decodeFrame(frame({ ...add, metadata: { ...add.metadata, note: 'x' } })),
    { ok: false, error: { detail: 'update_add_htlc.metadata.note: unknown field' } },
  )
  t.match(decodeFrame(frame({ ...SAMPLES.commitment_signed, htlc_signatures: ['00'.repeat(64), 'zz'] })), {
    ok: false, error: { path: 'commitment_signed.htlc_signatures[1]' },
  })
  t.match(decodeFrame(frame({ ...SAMPLES.open_channel, funding_satoshis: 2 ** 24 })), {
    ok: false, error: { detail: /^open_channel\.funding_satoshis: must be ≤ 16777215 .*\(got 16777216\)$/ },
  })
  t.match(decodeFrame(frame({ ...add, payment_hash: 'ab'.repeat(100) })), {
    ok: false, error: { detail: /\(got "a{0,1}(ab)+"… \(200 characters\)\)$/ },
  }, 'a long bad value is shown shortened, with its length')
})

t.test('boundary values are accepted', async (t) => {
  const cases: Array<[keyof typeof SAMPLES, string, unknown]> = [
    ['update_add_htlc', 'amount_msat', 1],
    ['update_add_htlc', 'amount_msat', Number.MAX_SAFE_INTEGER],
    ['update_add_htlc', 'id', Number.MAX_SAFE_INTEGER],
    ['update_add_htlc', 'cltv_expiry', 0xffff_ffff],
    ['open_channel', 'funding_satoshis', L.MAX_FUNDING_SATOSHIS],
    ['open_channel', 'to_self_delay', 0xffff],
    ['open_channel', 'channel_flags', 0xff],
    ['open_channel', 'upfront_shutdown_script', '51'.repeat(L.MAX_SHUTDOWN_SCRIPT_BYTES)],
    ['commitment_signed', 'htlc_signatures', []],
    ['commitment_signed', 'htlc_signatures', Array.from({ length: L.MAX_HTLC_SIGNATURES }, () => 'ab'.repeat(64))],
    ['ping', 'num_pong_bytes', L.MAX_PONG_BYTES],
    ['pong', 'ignored', ''],
    ['splice_init', 'funding_contribution_satoshis', Number.MIN_SAFE_INTEGER],
    ['closing_signed', 'fee_range', { min_fee_satoshis: 7, max_fee_satoshis: 7 }],
    ['tx_add_input', 'prevtx', '00'.repeat(L.MAX_PREVTX_BYTES)],
    ['tx_signatures', 'witnesses', Array.from({ length: L.MAX_INTERACTIVE_INPUTS_OUTPUTS }, () => [])],
    ['update_fail_htlc', 'detail', 'é'.repeat(L.MAX_FAIL_DETAIL_CHARS)],
    ['error', 'data', ''],
  ]
  for (const [type, field, value] of cases) {
    const r = decodeFrame(frame({ ...SAMPLES[type], [field]: value }))
    t.ok(r.ok, `${type}.${field} = ${JSON.stringify(value).slice(0, 30)} is accepted`)
  }
})
