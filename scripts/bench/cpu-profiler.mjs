// Preloaded into the hub by `npm run bench -- --cpu-prof DIR` (NODE_OPTIONS=--import=<this file>;
// node refuses --cpu-prof in NODE_OPTIONS): samples the whole process with the inspector's profiler
// and writes DIR/hub-<pid>-<time>.cpuprofile when the process exits normally (SIGTERM → exit 0).
// A SIGKILLed process writes nothing. The in-thread inspector session answers synchronously, which
// is what lets the 'exit' handler finish the write.
import { Session } from 'node:inspector'
import fs from 'node:fs'
import path from 'node:path'

const dir = process.env.BENCH_CPU_PROF_DIR
if (dir !== undefined && dir !== '') {
  const session = new Session()
  session.connect()
  session.post('Profiler.setSamplingInterval', { interval: 1000 })
  session.post('Profiler.enable')
  session.post('Profiler.start')
  process.on('exit', () => {
    session.post('Profiler.stop', (err, res) => {
      if (err !== null) { process.stderr.write(`cpu profile: ${String(err)}\n`); return }
      fs.mkdirSync(dir, { recursive: true })
      fs.writeFileSync(path.join(dir, `hub-${process.pid}-${Date.now()}.cpuprofile`), JSON.stringify(res.profile))
    })
  })
}
