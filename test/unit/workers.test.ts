/** Worker counts from the environment (harness/conformance/workers.ts): defaults, and a clear refusal. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { browserWorkersFromEnv, workersFromEnv } from '../../harness/conformance/workers.ts';

test('unset or empty: 4 workers, 1 per browser', () => {
  assert.equal(workersFromEnv({}), 4);
  assert.equal(browserWorkersFromEnv({ CORS_BROWSER_WORKERS: '' }), 1);
  assert.equal(workersFromEnv({ CORS_WORKERS: '6' }), 6);
  assert.equal(browserWorkersFromEnv({ CORS_BROWSER_WORKERS: '2' }), 2);
});

test('anything but a whole number ≥ 1 is refused, naming the variable', () => {
  assert.throws(() => workersFromEnv({ CORS_WORKERS: 'four' }), {
    message: 'CORS_WORKERS=four: expected a whole number, 1 or more',
  });
  assert.throws(() => workersFromEnv({ CORS_WORKERS: '0' }), { message: /^CORS_WORKERS=0: / });
  assert.throws(() => browserWorkersFromEnv({ CORS_BROWSER_WORKERS: '1.5' }), {
    message: 'CORS_BROWSER_WORKERS=1.5: expected a whole number, 1 or more',
  });
});
