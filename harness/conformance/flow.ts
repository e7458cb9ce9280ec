/**
 * The specs' side of captures (harness/cases/captures.ts): a request gets the values earlier requests of its
 * case captured on the same bucket, and hands on what it captures. Either failure points into the case file.
 */
import {
  type CapturedValues,
  capturedValues,
  MissingCapture,
  type Readable,
  readCapture,
  substitute,
} from '../cases/captures.ts';
import type { CaseRequest, LoadedCase } from '../cases/model.ts';
import type { Mismatch } from '../check/expect.ts';
import { type DocPath, formatPath } from '../policy/model.ts';
import type { CaseRun } from '../run/state.ts';
import { failOnMismatches } from './worker.ts';

/** Where a name is captured in the case (the loader made sure one earlier request does). */
function capturedAt(c: LoadedCase, name: string): string {
  for (const step of c.steps) {
    if (step.kind === 'request' && step.request.capture?.[name]) {
      return `${formatPath([...step.path, 'capture', name])} (${step.request.id})`;
    }
  }
  return 'no request';
}

/** The request as it is sent on this run's bucket: every `${name}` replaced by the value captured there. */
export function withCaptures(c: LoadedCase, run: CaseRun, request: CaseRequest, at: DocPath): CaseRequest {
  try {
    return substitute(request, capturedValues(c.id, run.bucket));
  } catch (error) {
    if (!(error instanceof MissingCapture)) throw error;
    failOnMismatches(c, [
      {
        path: [...at, ...error.field],
        expected: `\${${error.name}}, captured by ${capturedAt(c, error.name)}`,
        received: 'no value: that request failed, was skipped or filtered out, or ran in another worker',
      },
    ]);
    throw error;
  }
}

/**
 * Takes the request's captures from what the client could read; each one missing is a mismatch at its
 * `capture.<name>` (in a browser: a header the policy does not expose, say). Found values are kept for the
 * case's later requests on this bucket.
 */
export function keepCaptures(
  c: LoadedCase,
  run: CaseRun,
  request: CaseRequest,
  at: DocPath,
  readable: Readable,
  reader: string,
): Mismatch[] {
  const store: CapturedValues = capturedValues(c.id, run.bucket);
  const mismatches: Mismatch[] = [];
  for (const [name, capture] of Object.entries(request.capture ?? {})) {
    const read = readCapture(capture, readable);
    if ('value' in read) store.set(name, read.value);
    else {
      const what = 'header' in capture ? `the ${capture.header} header` : `the <${capture.xml}> element of the body`;
      mismatches.push({ path: [...at, 'capture', name], expected: `${reader} reads ${what}`, received: read.missing });
    }
  }
  return mismatches;
}
