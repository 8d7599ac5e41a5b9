// The Node SDK's TLS option (client-sdk/node/socket.ts): `tls.ca` must be PEM certificates that
// parse, and it is for the default socket only (a socketFactory of one's own sets its own TLS).
import path from 'node:path'
import t from 'tap'
import { createNodeClient, wsSocketFactory } from '../../../../client-sdk/node.ts'
import { socketTlsSchema } from '../../../../client-sdk/node/socket.ts'
import { makeCa } from '../../../helpers/certificates.ts'
import { randomKey, tempDir } from '../../../helpers/hub.ts'

const dir = tempDir('sdk-tls')
const ca = makeCa(dir, 'sdk-ca')

t.test('tls.ca: PEM certificates only, each one valid', async t => {
  t.ok(socketTlsSchema.safeParse({ ca: ca.pem }).success, 'a CA certificate')
  t.ok(socketTlsSchema.safeParse({ ca: ca.pem + ca.pem }).success, 'a bundle of two')
  t.notOk(socketTlsSchema.safeParse({ ca: 'not pem' }).success, 'text without a certificate')
  const broken = ca.pem.replace(/\n[A-Za-z0-9+/]{10}/, '\n!!!!!!!!!!')
  t.notOk(socketTlsSchema.safeParse({ ca: broken }).success, 'a certificate that does not parse')
  t.notOk(socketTlsSchema.safeParse({ ca: ca.pem, rejectUnauthorized: false }).success, 'no way to turn verification off')
})

t.test('createNodeClient: a bad tls option is a TypeError naming the field', async t => {
  const base = {
    nodeKey: randomKey(), hubUrl: 'wss://127.0.0.1:9735', hubId: `02${'11'.repeat(32)}`, dataDir: path.join(dir, 'client'),
    btcdRpc: { host: '127.0.0.1', port: 1, user: 'u', pass: 'p' },
  }
  await t.rejects(
    createNodeClient({ ...base, tls: { ca: 'nope' } }), { name: 'TypeError', message: /options\.tls\.ca: must be one or more PEM/ },
  )
  await t.rejects(createNodeClient({ ...base, tls: { ca: ca.pem }, socketFactory: wsSocketFactory }),
    { name: 'TypeError', message: /options\.tls: is for the default socket/ })
})
