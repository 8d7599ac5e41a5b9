// The one shape of an outcome that can fail (DESIGN.md rule 5): a value, or an error value whose type
// is a closed set of reasons saying what happens next. Used from protocol/ up to the SDK; throwing is
// for programmer errors only.

export type Result<T, E> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: E }

export const ok = <T>(value: T): { readonly ok: true; readonly value: T } => ({ ok: true, value })
export const err = <E>(error: E): { readonly ok: false; readonly error: E } => ({ ok: false, error })
