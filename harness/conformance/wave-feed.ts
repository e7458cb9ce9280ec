/**
 * A reporter that tells the wave coordinator (harness/run/coordinator.ts) which tests the run holds and when
 * each ends. playwright.config.ts adds it through PW_TEST_REPORTER, which Playwright adds to whatever reporters
 * the command line names (`--reporter=json` replaces the config's). Without waves it does nothing.
 */
import type { FullConfig, Reporter, Suite, TestCase, TestResult } from '@playwright/test/reporter';
import { sharedCoordinator, type TestSeen } from '../run/coordinator.ts';
import { browserWorkersFromEnv } from './workers.ts';

/** Every test is in a describe block named by its case id; its project is its client. */
function seen(test: TestCase): TestSeen {
  return { caseId: test.parent.title, client: test.parent.project()?.name ?? 'raw' };
}

/** The workers the run's projects hold at once: the browsers' as playwright.config.ts sets them, and one for raw. */
function projectWorkers(suite: Suite): number {
  const projects = suite.suites.filter((s) => s.allTests().length > 0).map((s) => s.project()?.name);
  const browserWorkers = browserWorkersFromEnv();
  return projects.reduce((n, name) => n + (name === 'raw' ? 1 : browserWorkers), 0);
}

export default class WaveFeed implements Reporter {
  printsToStdio() {
    return false;
  }

  onBegin(config: FullConfig, suite: Suite) {
    const tests = suite.allTests();
    sharedCoordinator()?.begin({
      tests: tests.map(seen),
      workers: config.workers,
      projectWorkers: projectWorkers(suite),
      retries: tests.some((t) => t.retries > 0),
    });
  }

  onTestEnd(test: TestCase, result: TestResult) {
    // A test that Playwright will retry has not ended (retries are refused in waves anyway).
    if (result.status !== 'passed' && result.status !== 'skipped' && result.retry < test.retries) return;
    sharedCoordinator()?.ended(seen(test), result.status === 'interrupted');
  }
}
