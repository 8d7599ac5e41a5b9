// The admission token (protocol/auth/admission-token.ts): only the node key makes one, for one hub
// and one time; the query form parses back, and a malformed one is refused with the parameter named.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { nodeIdOf } from '../../../../protocol/auth/signature.ts'
import {
  ADMISSION_PARAMS, admissionQuery, parseAdmissionQuery, signAdmissionToken, verifyAdmissionToken,
} from '../../../../protocol/auth/admission-token.ts'

const key = () => new Uint8Array(randomBytes(32))
const aux = new Uint8Array(32)

t.test('a token verifies for its hub, and for nothing else', async t => {
  const hub = nodeIdOf(key())
  const client = key()
  const token = signAdmissionToken(hub, client, 1_700_000_000_123, aux)
  t.equal(token.nodeId, nodeIdOf(client))
  t.ok(verifyAdmissionToken(token, hub))
  t.notOk(verifyAdmissionToken(token, nodeIdOf(key())), 'another hub')
  t.notOk(verifyAdmissionToken({ ...token, timeMs: token.timeMs + 1 }, hub), 'another time')
  t.notOk(verifyAdmissionToken({ ...token, nodeId: nodeIdOf(key()) }, hub), 'another node id')
  t.notOk(verifyAdmissionToken({ ...token, signature: token.signature.slice(0, 126) }, hub), 'a short signature')
  t.notOk(verifyAdmissionToken({ ...token, signature: 'zz' + token.signature.slice(2) }, hub), 'not hex')
})

t.test('the query form round-trips; no token parameter is no token; a malformed one names the parameter', async t => {
  const token = signAdmissionToken(nodeIdOf(key()), key(), 1_700_000_000_123, aux)
  const params = new URLSearchParams(admissionQuery(token))
  params.set('unrelated', 'x')
  t.same(parseAdmissionQuery(params), { ok: true, value: token })
  t.same(parseAdmissionQuery(new URLSearchParams('a=b')), { ok: true, value: undefined })
  const bad = new URLSearchParams(admissionQuery(token))
  bad.set(ADMISSION_PARAMS.time, '-5')
  t.match(parseAdmissionQuery(bad), { ok: false, error: /^admission_time: must be ms since the Unix epoch/ })
  bad.set(ADMISSION_PARAMS.time, '1')
  bad.set(ADMISSION_PARAMS.nodeId, '04' + '00'.repeat(32))
  t.match(parseAdmissionQuery(bad), { ok: false, error: /^admission_node_id: must be a 33-byte compressed key/ })
  const partial = new URLSearchParams({ [ADMISSION_PARAMS.nodeId]: token.nodeId })
  t.match(parseAdmissionQuery(partial), { ok: false, error: /admission_time: .*admission_sig: /s })
})
