// Verifies an exported audit log against its anchors on the chain, offline from the hub:
//   npx tsx scripts/audit-verify.ts --file log.jsonl --rpc-file <hub data dir>/btcd-rpc.json
// The command is hub/audit/verify-command.ts (its options and exit status are listed there).
import { runAuditVerify } from '../hub/audit/verify-command.ts'

process.exitCode = await runAuditVerify(process.argv.slice(2), line => { process.stdout.write(line + '\n') })
