/**
 * The last part of `npm test`: npm scripts run at once (`tsx test/run-steps.ts test:unit test:page test:suite`).
 * The test files mostly wait on CPU and the suite's browser projects mostly wait on pages, so side by side they
 * fill the 2-core machine instead of taking turns. Each script keeps its own emulator, state and reports
 * (README, "Files can overlap"), so they cannot meet.
 *
 * The first script's output streams as it comes; the others' is held and printed whole once the first has
 * ended and they have too, each under a header line, so no two outputs interleave. A line says when each
 * script ends. The exit code is the first failing script's, in the order given; 0 when all pass.
 *
 * Not `concurrently --group`, which orders output the same way: on Ctrl-C it sends every script a SIGINT of its
 * own on top of the terminal's (the suite's set-up takes a second one for "stop now, leave the journals") and
 * then exits 0, so an interrupted `npm test` would pass.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { constants } from 'node:os';

const scripts = process.argv.slice(2);
if (scripts.length === 0) {
  console.error('usage: tsx test/run-steps.ts <npm script> [<npm script> …]');
  process.exit(2);
}

interface Step {
  script: string;
  exit: Promise<number>;
  output: string[];
}

const started = Date.now();
const seconds = () => Math.round((Date.now() - started) / 1000);

const children: ChildProcess[] = [];
const steps: Step[] = scripts.map((script, i) => {
  const live = i === 0;
  const child = spawn('npm', ['run', '--silent', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const step: Step = { script, output: [], exit: Promise.resolve(0) };
  const keep = (data: Buffer) => {
    if (live) process.stdout.write(data);
    else step.output.push(data.toString());
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  step.exit = new Promise((resolve) =>
    child.on('close', (code, signal) => {
      // Killed by a signal: the shell's 128 + its number (130 for Ctrl-C).
      const status = code ?? 128 + (signal ? constants.signals[signal] : 0);
      // Said on stderr as it happens: the streaming script's output may still be going.
      process.stderr.write(
        `[npm test] npm run ${script}: ${status === 0 ? 'passed' : `FAILED (exit ${code ?? signal})`} after ${seconds()} s${live || status !== 0 ? '' : '; its output follows the first script'}\n`,
      );
      resolve(status);
    }),
  );
  if (!live)
    console.log(`[npm test] npm run ${script}: started beside npm run ${scripts[0]}; its output is shown when it ends`);
  return step;
});

// Ctrl-C reaches every child through the terminal's process group; this process only waits for them. A SIGTERM
// sent to this process alone is passed on.
process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => {
  for (const child of children) child.kill('SIGTERM');
});

const codes: number[] = [];
for (const [i, step] of steps.entries()) {
  codes.push(await step.exit);
  if (i === 0) continue;
  console.log(`\n──── npm run ${step.script} ────`);
  process.stdout.write(step.output.join(''));
}
process.exitCode = codes.find((code) => code !== 0) ?? 0;
