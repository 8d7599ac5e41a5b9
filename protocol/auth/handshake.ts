// The authentication handshake as two small state machines, one per side (DESIGN.md
// "Authentication"). Pure: the host passes in the fresh randomness and the secret key, sends what
// `send` says and closes the connection on any error.
//
//   hub                                   client
//    | hub_hello {challenge, hub_id}  ──▶   |   (hub's fresh 32-byte challenge)
//    |  ◀── client_auth {client_id, signature, client_challenge}
//    |      signature = BIP-340 over sha256(CLIENT_TAG ‖ challenge ‖ hub_id ‖ client_id)
//    | hub_auth {signature}           ──▶   |   signature over sha256(HUB_TAG ‖ client_challenge ‖ …)
//    |  ◀── auth_ok {}                      |   (the client checked the hub's key)
//   session scoped to client_id         session with hub_id
//
// The hub opens a session only after `auth_ok`, so nothing of a session is ever sent to a client
// that has not yet accepted the hub's key. Every failure is final: the connection is closed.
import type { NodeId } from '../types.ts'
import { bytesToHex, hexToBytes } from '../types.ts'
import { CHALLENGE_BYTES, SIGNATURE_BYTES, isValidNodeId, signAuth, verifyAuth } from './signature.ts'
import type { AnyMessage, AuthOk, ClientAuth, HubAuth, HubHello } from './messages.ts'

/** Why a handshake failed. The action is always: close the connection. */
export type AuthFailure =
  | 'unexpected_message' // a message out of order, or a non-handshake message before auth
  | 'invalid_node_id'    // a node id that is not a valid compressed secp256k1 point
  | 'hub_id_mismatch'    // the hub is not the one the client was told to expect
  | 'bad_signature'      // a signature that does not verify for the claimed key and this challenge
  | 'bad_challenge'      // a challenge of the wrong size

export interface AuthError { action: 'disconnect'; reason: AuthFailure; detail: string }

/** Exactly `n` bytes of lowercase hex, or undefined: the wire codec checks this already, but the
 *  machine stays total even if handed an unchecked message. */
function fixedHex (s: unknown, n: number): Uint8Array | undefined {
  return typeof s === 'string' && s.length === 2 * n && /^[0-9a-f]*$/.test(s) ? hexToBytes(s) : undefined
}

const fail = (reason: AuthFailure, detail: string): { ok: false; error: AuthError } =>
  ({ ok: false, error: { action: 'disconnect', reason, detail } })

// ----------------------------------------------------------------------------------------------------
// Hub side

export type HubHandshake =
  | { phase: 'awaiting_client_auth'; hubId: NodeId; challenge: string } // hub_hello sent
  | { phase: 'awaiting_auth_ok'; hubId: NodeId; clientId: NodeId }      // client proved; hub_auth sent
  | { phase: 'authenticated'; hubId: NodeId; clientId: NodeId }         // session may start

export type HubStep =
  | { ok: true; state: HubHandshake; send?: HubAuth }
  | { ok: false; error: AuthError }

/** Starts the hub's side: `challenge` must be 32 fresh random bytes, never reused. */
export function startHubHandshake (hubId: NodeId, challenge: Uint8Array): { state: HubHandshake; send: HubHello } {
  if (challenge.length !== CHALLENGE_BYTES) throw new RangeError('startHubHandshake: challenge must be 32 bytes')
  const c = bytesToHex(challenge)
  return {
    state: { phase: 'awaiting_client_auth', hubId, challenge: c },
    send: { type: 'hub_hello', challenge: c, hub_id: hubId },
  }
}

/**
 * The hub receives a handshake message. `hubSecret` is the hub's node key, `auxRand` 32 fresh
 * random bytes for its signature.
 */
export function hubReceive (state: HubHandshake, input: AnyMessage, hubSecret: Uint8Array, auxRand: Uint8Array): HubStep {
  switch (state.phase) {
    case 'awaiting_client_auth': {
      if (input.type !== 'client_auth') return fail('unexpected_message', `expected client_auth, got ${input.type}`)
      const msg = input as ClientAuth
      if (!isValidNodeId(msg.client_id)) return fail('invalid_node_id', 'client_auth.client_id: not a valid compressed secp256k1 key')
      const clientChallenge = fixedHex(msg.client_challenge, CHALLENGE_BYTES)
      if (clientChallenge === undefined) return fail('bad_challenge', 'client_auth.client_challenge: must be 32 bytes of hex')
      const clientId = msg.client_id
      const signature = fixedHex(msg.signature, SIGNATURE_BYTES)
      if (signature === undefined || !verifyAuth('client', signature, hexToBytes(state.challenge), state.hubId, clientId)) {
        return fail('bad_signature', 'client_auth.signature: does not verify for client_id over this connection\'s challenge')
      }
      const hubSig = bytesToHex(signAuth('hub', clientChallenge, state.hubId, clientId, hubSecret, auxRand))
      return { ok: true, state: { phase: 'awaiting_auth_ok', hubId: state.hubId, clientId }, send: { type: 'hub_auth', signature: hubSig } }
    }
    case 'awaiting_auth_ok':
      if (input.type !== 'auth_ok') return fail('unexpected_message', `expected auth_ok, got ${input.type}`)
      return { ok: true, state: { phase: 'authenticated', hubId: state.hubId, clientId: state.clientId } }
    case 'authenticated':
      return fail('unexpected_message', `${input.type} after the handshake completed`)
  }
}

// ----------------------------------------------------------------------------------------------------
// Client side

export type ClientHandshake =
  | { phase: 'awaiting_hub_hello'; clientId: NodeId; expectedHubIds?: readonly NodeId[] }
  | { phase: 'awaiting_hub_auth'; clientId: NodeId; hubId: NodeId; clientChallenge: string } // client_auth sent
  | { phase: 'authenticated'; clientId: NodeId; hubId: NodeId }                                // auth_ok sent

export type ClientStep =
  | { ok: true; state: ClientHandshake; send?: ClientAuth | AuthOk }
  | { ok: false; error: AuthError }

/** Starts the client's side. Without `expected` the client accepts whichever key the hub proves;
 *  with a list, any key of it (a hub rotating its node key proves either during the grace,
 *  protocol/node-key/rotation.ts). */
export function startClientHandshake (clientId: NodeId, expected?: NodeId | readonly NodeId[]): ClientHandshake {
  if (expected === undefined) return { phase: 'awaiting_hub_hello', clientId }
  return { phase: 'awaiting_hub_hello', clientId, expectedHubIds: typeof expected === 'string' ? [expected] : [...expected] }
}

/** Fresh randomness the client needs to answer `hub_hello`: its own challenge and BIP-340 aux bytes. */
export interface ClientRandomness { challenge: Uint8Array; auxRand: Uint8Array }

/** The client receives a handshake message. `clientSecret` is the client's node key. */
export function clientReceive (
  state: ClientHandshake, input: AnyMessage, clientSecret: Uint8Array, fresh: ClientRandomness,
): ClientStep {
  switch (state.phase) {
    case 'awaiting_hub_hello': {
      if (input.type !== 'hub_hello') return fail('unexpected_message', `expected hub_hello, got ${input.type}`)
      const msg = input as HubHello
      if (!isValidNodeId(msg.hub_id)) return fail('invalid_node_id', 'hub_hello.hub_id: not a valid compressed secp256k1 key')
      const hubId = msg.hub_id
      if (state.expectedHubIds !== undefined && !state.expectedHubIds.includes(hubId)) {
        return fail('hub_id_mismatch', `hub_hello.hub_id: expected ${state.expectedHubIds.join(' or ')}, got ${hubId}`)
      }
      const challenge = fixedHex(msg.challenge, CHALLENGE_BYTES)
      if (challenge === undefined) return fail('bad_challenge', 'hub_hello.challenge: must be 32 bytes of hex')
      if (fresh.challenge.length !== CHALLENGE_BYTES) throw new RangeError('clientReceive: fresh challenge must be 32 bytes')
      const signature = bytesToHex(signAuth('client', challenge, hubId, state.clientId, clientSecret, fresh.auxRand))
      const clientChallenge = bytesToHex(fresh.challenge)
      return {
        ok: true,
        state: { phase: 'awaiting_hub_auth', clientId: state.clientId, hubId, clientChallenge },
        send: { type: 'client_auth', client_id: state.clientId, signature, client_challenge: clientChallenge },
      }
    }
    case 'awaiting_hub_auth': {
      if (input.type !== 'hub_auth') return fail('unexpected_message', `expected hub_auth, got ${input.type}`)
      const msg = input as HubAuth
      const signature = fixedHex(msg.signature, SIGNATURE_BYTES)
      if (signature === undefined || !verifyAuth('hub', signature, hexToBytes(state.clientChallenge), state.hubId, state.clientId)) {
        return fail('bad_signature', 'hub_auth.signature: does not verify for hub_id over our challenge')
      }
      return { ok: true, state: { phase: 'authenticated', clientId: state.clientId, hubId: state.hubId }, send: { type: 'auth_ok' } }
    }
    case 'authenticated':
      return fail('unexpected_message', `${input.type} after the handshake completed`)
  }
}
