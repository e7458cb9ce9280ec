/**
 * A journal is the only truth about a bucket's original state. A bucket whose policy carries the harness's own
 * marks (a sentinel rule: the probe origin `https://r2-cors-probe-<nonce>.invalid`, or its exposed header
 * `x-r2-cors-probe-<nonce>`, harness/run/apply.ts), or that holds objects under `r2-cors-run-<id>/`, with no
 * journal, was left by a run that was interrupted before the journal could protect it (or by an older harness).
 * Its policy is not its owner's: a run must never record it as the original. So a run stops before touching
 * anything, and `r2-cors restore` deletes what it safely can (the harness's objects) and says what it cannot.
 */
import type { CorsPolicy } from '../policy/model.ts';
import type { Target } from '../targets/target.ts';
import { SENTINEL_MARKER, SENTINEL_ORIGIN } from './apply.ts';
import type { Journal } from './journal.ts';

export const RUN_PREFIX = 'r2-cors-run-';

export interface Leftover {
  bucket: string;
  /** The harness's marks found in the bucket's policy, for people; empty when the policy is not the harness's. */
  policyMarks: string[];
  /** Objects under `r2-cors-run-*\/` that no journal covers. */
  objects: string[];
  /** Multipart uploads left open under `r2-cors-run-*\/` (a flow stopped between Create and Complete). */
  uploads: { key: string; uploadId: string }[];
}

/** The harness's marks in a policy: its sentinel rules' origins and exposed headers. */
export function harnessMarks(policy: CorsPolicy | null): string[] {
  const marks: string[] = [];
  for (const [i, rule] of (policy?.rules ?? []).entries()) {
    for (const origin of rule.allowedOrigins)
      if (SENTINEL_ORIGIN.test(origin)) marks.push(`rule ${i + 1} allows origin ${origin}`);
    for (const header of rule.exposeHeaders ?? [])
      if (SENTINEL_MARKER.test(header)) marks.push(`rule ${i + 1} exposes ${header}`);
  }
  return marks;
}

/** Looks at each bucket (read only): its policy and its objects under the harness's prefix, less what journals cover. */
export async function findLeftovers(target: Target, buckets: string[], journals: Journal[]): Promise<Leftover[]> {
  const found: Leftover[] = [];
  const queue = [...buckets];
  await Promise.all(
    Array.from({ length: Math.min(8, queue.length) }, async () => {
      for (let bucket = queue.shift(); bucket !== undefined; bucket = queue.shift()) {
        const mine = journals.filter((j) => j.target === target.identity && j.bucket === bucket);
        // A journaled bucket is the journal's business: `r2-cors restore` puts it back.
        if (mine.length > 0) continue;
        const policyMarks = harnessMarks(await target.getPolicy(bucket));
        const objects = await target.listObjects(bucket, RUN_PREFIX);
        const uploads = await target.listMultipartUploads(bucket, RUN_PREFIX);
        if (policyMarks.length > 0 || objects.length > 0 || uploads.length > 0)
          found.push({ bucket, policyMarks, objects, uploads });
      }
    }),
  );
  return found.sort((a, b) => a.bucket.localeCompare(b.bucket));
}

/** What a run says before it stops: one line per bucket. */
export function describeLeftover(l: Leftover): string {
  const what: string[] = [];
  if (l.policyMarks.length > 0) what.push(`its CORS policy: ${l.policyMarks.slice(0, 2).join(', ')}`);
  if (l.objects.length > 0) {
    const prefixes = [...new Set(l.objects.map((k) => k.split('/')[0]))];
    what.push(`${l.objects.length} object(s) under ${prefixes.map((p) => `${p}/`).join(', ')}`);
  }
  if (l.uploads.length > 0) what.push(`${l.uploads.length} open multipart upload(s)`);
  const kind = l.policyMarks.length > 0 ? 'a policy' : 'objects';
  return `bucket ${l.bucket} holds ${kind} left by an interrupted run (${what.join('; ')}); run \`npx r2-cors restore\`, or restore it by hand`;
}
