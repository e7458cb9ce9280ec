/**
 * A child process's stdout and stderr as one string, in the order they came, as a user's terminal would show
 * them: what the self-tests assert on, and print when an assertion fails.
 */
import type { ChildProcess } from 'node:child_process';

/** Collects from now on; the function returns what came so far. `onData` hears the whole of it each time. */
export function collectOutput(child: ChildProcess, onData?: (output: string) => void): () => string {
  let output = '';
  const read = (data: Buffer | string) => {
    output += data;
    onData?.(output);
  };
  child.stdout?.on('data', read);
  child.stderr?.on('data', read);
  return () => output;
}
