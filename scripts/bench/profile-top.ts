// Top functions by self time in a V8 .cpuprofile (as written by `node --cpu-prof`, e.g. by
// `npm run bench -- --cpu-prof DIR`):
//
//   npx tsx scripts/bench/profile-top.ts DIR/CPU.*.cpuprofile [--top 30]
import fs from 'node:fs'
import { topSelfTime, type CpuProfile } from './profile.ts'

const argv = process.argv.slice(2)
const topArg = argv.indexOf('--top')
const top = topArg >= 0 ? Number(argv[topArg + 1]) : 30
const files = argv.filter((a, i) => !a.startsWith('--') && (topArg < 0 || i !== topArg + 1))
if (files.length === 0) { process.stderr.write('usage: profile-top.ts FILE.cpuprofile [--top N]\n'); process.exit(2) }
for (const file of files) {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile
  const { totalMs, idleMs, rows } = topSelfTime(profile, top)
  process.stdout.write(`${file}: ${(totalMs / 1000).toFixed(2)} s busy, ${(idleMs / 1000).toFixed(2)} s idle\n`)
  process.stdout.write('  self ms   self %  function (file:line)\n')
  for (const r of rows) process.stdout.write(
    `${r.selfMs.toFixed(0).padStart(8)}  ${r.percent.toFixed(1).padStart(6)}%  ${r.name} (${r.where})\n`
  )
}
