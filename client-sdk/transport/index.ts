// The SDK's transport: an authenticated WebSocket connection to the hub, and a link that keeps one up.
export { connect, ConnectError, HubConnection } from './connection.ts'
export type { CloseInfo, ConnectFailure, ConnectionEvents } from './connection.ts'
export { HubLink, LinkGaveUp, backoffDelay } from './hub-link.ts'
export type { HubLinkEvents, HubLinkOptions } from './hub-link.ts'
export type { ConnectOptionsInput, BackoffOptionsInput } from './options.ts'
export type { SocketFactory, SocketLike } from './socket.ts'
