/**
 * An error Playwright prints as it is: without a stack, which would point into the harness, not at the setting
 * or file the user has to change. For the configuration's and the global set-up's refusals.
 */
export function plainError(message: string): Error {
  const error = new Error(message);
  error.stack = `Error: ${message}`;
  return error;
}
