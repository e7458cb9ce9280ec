/** `r2-cors <command>`: the harness's command-line entry point. */
import { COMMANDS } from './commands.ts';
import { EXIT, UsageError, wantsHelp } from './usage.ts';

const HELP = `Usage: r2-cors <command> [options]

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(10)}${c.summary}`).join('\n')}

Run 'r2-cors <command> --help' for a command's options and examples.
The conformance suite itself runs with 'npx playwright test' (see README.md).`;

export async function main(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(HELP);
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    console.error(`r2-cors: unknown command '${name}'\n\n${HELP}`);
    return EXIT.usage;
  }
  if (wantsHelp(rest)) {
    console.log(command.help);
    return EXIT.ok;
  }
  try {
    const { run } = await command.load();
    return await run(rest);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`r2-cors ${error.message}\nRun 'r2-cors ${name} --help' for usage.`);
      return EXIT.usage;
    }
    throw error;
  }
}
