#!/usr/bin/env node
// hubctl: the operator's command line (hub/ctl/main.ts, the package's `bin`), run through tsx's loader.
import { tsImport } from 'tsx/esm/api'

// A reader that stops early (`hubctl channels | head`) is not an error.
process.stdout.on('error', e => { if (e.code === 'EPIPE') process.exit(0); throw e })

const { runHubctl } = await tsImport('./main.ts', import.meta.url)
const code = await runHubctl(process.argv.slice(2), {
  stdout: s => process.stdout.write(s + '\n'),
  stderr: s => process.stderr.write(s + '\n'),
})
process.exitCode = code
