// The admin server over TLS (admin.tls, hub/admin/server.ts): HTTPS with the operator's certificate,
// the same tokens in front of every route; a client that does not trust the certificate, or speaks
// plain HTTP, gets nothing.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import https from 'node:https'
import os from 'node:os'
import path from 'node:path'
import { AdminServer, type AdminHandlers } from '../../../../hub/admin/server.ts'

const tokens = { admin: 'a'.repeat(64), read: 'b'.repeat(64) }
const refuse = async (): Promise<{ status: number; body: unknown }> => ({ status: 409, body: { error: 'not in this test' } })
/** The server's routes answer from these; the test is about the transport and the tokens in front. */
const handlers: AdminHandlers = {
  info: () => ({ hub_id: 'test' }), channels: async () => [], stats: () => ({}), closed: async () => [], newAddress: () => ({}),
  open: async () => ({}), close: refuse, faucet: refuse,
}

function get (url: string, o: { ca?: Buffer; token?: string }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, {
      ...(o.ca !== undefined ? { ca: o.ca } : {}), headers: o.token !== undefined ? { authorization: `Bearer ${o.token}` } : {},
    }, res => {
      let body = ''
      res.on('data', (c: Buffer) => { body += c.toString() })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject)
  })
}

t.test('admin.tls: HTTPS with the operator\'s certificate, tokens as over HTTP; untrusted or plain HTTP clients get nothing', async t => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'admin-tls-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  const certFile = path.join(dir, 'cert.pem')
  const keyFile = path.join(dir, 'key.pem')
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', keyFile, '-out', certFile,
  ], { stdio: 'ignore' })
  const server = await AdminServer.start({ port: 0, host: '127.0.0.1', tls: { certFile, keyFile }, tokens }, handlers)
  t.teardown(() => server.close())
  t.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/, 'the URL says https')
  const ca = fs.readFileSync(certFile)

  const ok = await get(`${server.url}/info`, { ca, token: tokens.read })
  t.same([ok.status, JSON.parse(ok.body)], [200, { hub_id: 'test' }], 'a trusting client with a token reads')
  t.equal((await get(`${server.url}/info`, { ca })).status, 401, 'without a token: 401')
  await t.rejects(get(`${server.url}/info`, { token: tokens.read }), /self-signed|unable to verify|certificate/i,
    'a client that does not trust the certificate does not connect')
  const plain = await fetch(server.url.replace('https:', 'http:') + '/info').then(r => r.status, () => 'refused')
  t.not(plain, 200, `plain HTTP gets no answer (${String(plain)})`)
})
