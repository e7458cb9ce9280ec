#!/usr/bin/env node
// The `r2-cors` command. The harness is TypeScript run as is: tsx's loader compiles it on the fly, so there is
// no build step between editing a file and running it.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./main.ts');
process.exitCode = await main(process.argv.slice(2));
