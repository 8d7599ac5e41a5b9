// The handshake messages as the auth state machines see them: parsed and bounded by the wire codec
// (protocol/wire), so hex fields have their exact lengths. The machines still re-check what they use.
import type { AuthOk, ClientAuth, HubAuth, HubHello } from '../wire/index.ts'

export type { AuthOk, ClientAuth, HubAuth, HubHello }
export type HandshakeMessage = HubHello | ClientAuth | HubAuth | AuthOk
/** Any decoded message: before the handshake completes, anything but the expected one is refused. */
export type AnyMessage = HandshakeMessage | { type: string }
