/** Command-line conventions shared by every `r2-cors` command: exit codes, usage errors, option parsing. */
import { type ParseArgsConfig, parseArgs } from 'node:util';

/** 0: all good. 1: findings (problems in the data, a request R2 would refuse). 2: the command was used wrongly. */
export const EXIT = { ok: 0, findings: 1, usage: 2 } as const;

/** A mistake in how the command was called, or an input that cannot be read: exit 2 with this message. */
export class UsageError extends Error {}

export interface Command {
  name: string;
  summary: string;
  help: string;
  run(args: string[]): Promise<number> | number;
}

/** node:util parseArgs, with its errors turned into usage errors that name the command. */
export function parseOptions<T extends ParseArgsConfig['options']>(command: string, args: string[], options: T) {
  try {
    return parseArgs({
      args,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new UsageError(`${command}: ${(error as Error).message.split('\n')[0]}`);
  }
}
