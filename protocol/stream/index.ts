// Streams of line items paid one tick (one push payment) at a time, each item with a receipt anyone can
// check offline (DESIGN.md "Streams").
export * from './item.ts'
export * from './merkle.ts'
export * from './tick.ts'
