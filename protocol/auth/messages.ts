// The handshake messages as the auth state machines see them: already parsed and bounded by the wire
// codec (protocol/wire), so hex fields have their exact lengths.
import type { NodeId } from '../types.ts'

export interface HubHello { type: 'hub_hello'; challenge: string; hub_id: NodeId | string }
export interface ClientAuth { type: 'client_auth'; client_id: NodeId | string; signature: string; client_challenge: string }
export interface HubAuth { type: 'hub_auth'; signature: string }
export interface AuthOk { type: 'auth_ok' }

export type HandshakeMessage = HubHello | ClientAuth | HubAuth | AuthOk
/** Any decoded message: before the handshake completes, anything but the expected one is refused. */
export type AnyMessage = HandshakeMessage | { type: string }
