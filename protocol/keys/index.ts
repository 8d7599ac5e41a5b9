// Public surface of protocol/keys: BOLT #3 per-commitment secrets, the shachain store, key derivation.
//
// All keys are Uint8Array: private keys/secrets 32 bytes, public keys/points 33 bytes compressed.
// Functions that do curve math take an optional trailing `curve` (default: see crypto/curve.ts).
//
// Typical use (channel state machine):
//   const secret = perCommitmentSecret(seed, commitmentIndex(n))      // our secret for commitment n
//   const point = perCommitmentPoint(secret)                           // sent in revoke_and_ack etc.
//   const keys = deriveCommitmentKeys({ ... })  // see protocol/tx (one call for a whole commitment)
// and on receiving the peer's revoke_and_ack:
//   const r = insertSecret(store, commitmentIndex(revokedNumber), secret) // r.ok false → close channel
export { FIRST_COMMITMENT_INDEX, commitmentIndex, perCommitmentSecret, perCommitmentPoint, deriveSecret } from './secrets.ts'
export {
  emptyShachain, insertSecret, deriveOldSecret, whereToPutSecret, shachainToJson, shachainFromJson,
  type Shachain, type ShachainEntry, type ShachainError, type ShachainJson,
} from './shachain.ts'
export {
  derivePubkey, derivePrivkey, deriveRevocationPubkey, deriveRevocationPrivkey,
  obscuringFactor, obscuredCommitmentNumber, xor48,
} from './derive.ts'
