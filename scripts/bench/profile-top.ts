// Top functions by self time in a V8 .cpuprofile (as written by `node --cpu-prof`, e.g. by
// `npm run bench -- --cpu-prof DIR`), or by total time (self and callees) with --total:
//
//   npx tsx scripts/bench/profile-top.ts DIR/CPU.*.cpuprofile [--top 30] [--total [--match REGEX]]
//
// --match keeps the functions whose name matches REGEX (e.g. '^(deliver|sendOut|onReceipt)$'): what a
// feature costs, whichever functions its time lands in.
import fs from 'node:fs'
import { topSelfTime, topTotalTime, type CpuProfile } from './profile.ts'

const argv = process.argv.slice(2)
const valueOf = (flag: string): string | undefined => { const i = argv.indexOf(flag); return i >= 0 ? argv[i + 1] : undefined }
const top = Number(valueOf('--top') ?? 30)
const total = argv.includes('--total')
const match = valueOf('--match')
const takesValue = new Set(['--top', '--match'])
const files = argv.filter((a, i) => !a.startsWith('--') && !takesValue.has(argv[i - 1] ?? ''))
if (files.length === 0) {
  process.stderr.write('usage: profile-top.ts FILE.cpuprofile [--top N] [--total [--match REGEX]]\n'); process.exit(2)
}
for (const file of files) {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile
  if (total) {
    const { totalMs, rows } = topTotalTime(profile, top, match === undefined ? undefined : new RegExp(match))
    process.stdout.write(`${file}: ${(totalMs / 1000).toFixed(2)} s busy\n`)
    process.stdout.write(' total ms  total %  function (file:line)\n')
    for (const r of rows) process.stdout.write(
      `${r.totalMs.toFixed(0).padStart(8)}  ${r.percent.toFixed(1).padStart(6)}%  ${r.name} (${r.where})\n`
    )
    continue
  }
  const { totalMs, idleMs, rows } = topSelfTime(profile, top)
  process.stdout.write(`${file}: ${(totalMs / 1000).toFixed(2)} s busy, ${(idleMs / 1000).toFixed(2)} s idle\n`)
  process.stdout.write('  self ms   self %  function (file:line)\n')
  for (const r of rows) process.stdout.write(
    `${r.selfMs.toFixed(0).padStart(8)}  ${r.percent.toFixed(1).padStart(6)}%  ${r.name} (${r.where})\n`
  )
}
