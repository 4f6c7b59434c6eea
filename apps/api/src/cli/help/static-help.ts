import { CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HELP_TABLE_FILE, HelpTable, rebuildProgram } from './help-table';

const HELP_FLAGS = new Set(['-h', '--help']);
// `--help` ends in helpDisplayed, the `help` command in help; both printed on stdout and exit 0.
const HELP_OUTCOMES = new Set(['commander.helpDisplayed', 'commander.help']);

/**
 * Whether these arguments only ask for help: `--help`, `<command> --help` or `help [command]`, with
 * nothing else that the full CLI would parse first (an option value it could reject, a stray
 * argument). Anything else goes to the full CLI, so the answer can never differ from it.
 */
function asksOnlyForHelp(argv: readonly string[], commands: ReadonlySet<string>): boolean {
  const [first, second, ...rest] = argv;
  if (rest.length > 0 || first === undefined) return false;
  if (HELP_FLAGS.has(first)) return second === undefined;
  if (first === 'help') return second === undefined || commands.has(second);
  return commands.has(first) && second !== undefined && HELP_FLAGS.has(second);
}

function readTable(directory: string): HelpTable | undefined {
  try {
    const table = JSON.parse(readFileSync(join(directory, HELP_TABLE_FILE), 'utf8')) as HelpTable;
    return table.version === 1 ? table : undefined;
  } catch {
    // No table (a build that skipped the help step): the full CLI answers, only more slowly.
    return undefined;
  }
}

/**
 * Answers a help request from the table the build wrote, with commander alone: no Nest context, no
 * entity metadata, no connection. Returns false when the full CLI must answer instead.
 */
export function answerHelpStatically(argv: readonly string[], programName: string): boolean {
  const table = readTable(__dirname);
  if (table === undefined) return false;
  const names = new Set(table.commands.flatMap((command) => [command.name, ...command.aliases]));
  if (!asksOnlyForHelp(argv, names)) return false;
  const program = rebuildProgram(table, programName);
  program.exitOverride();
  for (const command of program.commands) command.exitOverride();
  try {
    program.parse([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError && HELP_OUTCOMES.has(error.code)) return true;
    throw error;
  }
  return false;
}
