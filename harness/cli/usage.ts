/** Command-line conventions shared by every `r2-cors` command: exit codes, usage errors, option parsing. */
import { type ParseArgsConfig, parseArgs } from 'node:util';

/** 0: all good. 1: findings (problems in the data, a request R2 would refuse). 2: the command was used wrongly. */
export const EXIT = { ok: 0, findings: 1, usage: 2 } as const;

/** A mistake in how the command was called, or an input that cannot be read: exit 2 with this message. */
export class UsageError extends Error {}

/** A command as main.ts knows it (see commands.ts). */
export interface Command {
  name: string;
  summary: string;
  /** What `r2-cors <command> --help` prints. */
  help: string;
  /** Imports the command's module, and with it the modules it needs, only when the command runs. */
  load(): Promise<{ run(args: string[]): Promise<number> | number }>;
}

/**
 * node:util parseArgs, with its errors turned into usage errors that name the command. `positionals: false`
 * refuses any argument that is not an option. (`--help` never gets here: main.ts answers it for every command.)
 */
export function parseOptions<T extends ParseArgsConfig['options']>(
  command: string,
  args: string[],
  options: T,
  { positionals = true }: { positionals?: boolean } = {},
) {
  let parsed: ReturnType<typeof parseArgs<{ args: string[]; options: T; allowPositionals: true; strict: true }>>;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(`${command}: ${(error as Error).message.split('\n')[0]}`);
  }
  if (!positionals && parsed.positionals.length > 0) {
    throw new UsageError(`${command}: unexpected argument '${parsed.positionals[0]}'`);
  }
  return parsed;
}

/** Whether the arguments ask for a command's help. */
export function wantsHelp(args: string[]): boolean {
  const end = args.indexOf('--');
  return (end < 0 ? args : args.slice(0, end)).some((a) => a === '--help' || a === '-h');
}
