#!/usr/bin/env -S node --
// "node --": Node 20 reads --env-file from anywhere in its arguments up to a "--" (fixed in later versions),
// which would swallow the emulator's former --env-file option. That cannot help through npx, whose own node
// process sees the arguments first: hence the emulator's --write-env (see harness/cli/emulator.ts).
// The `r2-cors` command. The harness is TypeScript run as is: tsx's loader compiles it on the fly, so there is
// no build step between editing a file and running it.
import { register } from 'tsx/esm/api';

register();
// Output piped into a command that stops reading (| head) ends this program quietly instead of crashing it.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});
const { main } = await import('./main.ts');
process.exitCode = await main(process.argv.slice(2));
