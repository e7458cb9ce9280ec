/**
 * The journal: before the harness changes a bucket, it writes down what the bucket had, so that the bucket can
 * be put back even after Ctrl-C, a crash or a killed worker — by the run's own teardown, or later by
 * `npx r2-cors restore`. A run refuses to start on a bucket with a pending journal.
 *
 * Journals hold no secret: the target's identity (endpoint and account), the bucket, its original policy and
 * the prefix the run wrote objects under.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { CorsPolicy } from '../policy/model.ts';
import type { Target } from '../targets/target.ts';
import { alive } from './live.ts';

export interface Journal {
  version: 1;
  /** Target.identity of the target the bucket belongs to. */
  target: string;
  kind: string;
  bucket: string;
  /** The policy the bucket had before the run (null: none). */
  originalPolicy: CorsPolicy | null;
  /** Every object the run wrote is under this prefix. */
  prefix: string;
  runId: string;
  startedAt: string;
  /** The run's main process (the Playwright runner): while it lives, the run holds this journal (./live.ts). */
  pid: number;
  /** The run created the bucket (journaled before it was created): restoring empties and deletes it. */
  created?: boolean;
}

/** What restoring one bucket did, for one line of output. */
export interface Restored {
  bucket: string;
  /** Whether the bucket was changed at all: a bucket journaled but never changed needs no line on a live run. */
  changed: boolean;
  text: string;
  /** It could not be put back: why (its journal stays). */
  failed?: boolean;
}

/** Where journals are kept: R2_CORS_STATE_DIR (default .r2-cors in the working directory)/journal. */
export function journalDir(): string {
  return path.join(process.env.R2_CORS_STATE_DIR ?? '.r2-cors', 'journal');
}

function fileFor(j: Pick<Journal, 'target' | 'bucket'>): string {
  const name = `${j.target}--${j.bucket}`.replace(/[^A-Za-z0-9.-]+/g, '_');
  return path.join(journalDir(), `${name}.json`);
}

export function writeJournal(journal: Journal) {
  mkdirSync(journalDir(), { recursive: true });
  const file = fileFor(journal);
  writeFileSync(`${file}.tmp`, JSON.stringify(journal, null, 2));
  // rename is atomic: a journal is either whole or absent.
  renameSync(`${file}.tmp`, file);
}

/** The journal folder's file names that end with `suffix`; none when there is no folder yet. */
function journalFiles(suffix: string): string[] {
  try {
    return readdirSync(journalDir()).filter((n) => n.endsWith(suffix));
  } catch {
    return [];
  }
}

export function pendingJournals(): Journal[] {
  return journalFiles('.json').map((n) => JSON.parse(readFileSync(path.join(journalDir(), n), 'utf8')) as Journal);
}

/**
 * Journals a run was still writing when it was killed (SIGKILL between writing `<name>.json.tmp` and renaming
 * it): removed, each named by its bucket (by its file, when it was cut off before the bucket). A journal is
 * written before its bucket is changed, so such a bucket was never changed by that run. A file still being
 * written (its run alive, or a partial one younger than `graceMs`) is left alone.
 */
export function removeUnfinishedJournals(graceMs = 10_000): string[] {
  const removed: string[] = [];
  for (const name of journalFiles('.json.tmp')) {
    const file = path.join(journalDir(), name);
    let journal: Journal | undefined;
    try {
      journal = JSON.parse(readFileSync(file, 'utf8')) as Journal;
    } catch {
      // Cut off mid-write: only its age tells whether a writer is still at it.
    }
    try {
      if (journal ? alive(journal.pid) : Date.now() - statSync(file).mtimeMs < graceMs) continue;
    } catch {
      continue;
    }
    rmSync(file, { force: true });
    removed.push(journal?.bucket ?? name);
  }
  return removed;
}

export function removeJournal(journal: Journal) {
  rmSync(fileFor(journal), { force: true });
}

/**
 * Puts the bucket back as the journal says and deletes the journal: the run's objects deleted, the original
 * policy put back (or the policy deleted); a bucket the run created is emptied and deleted instead.
 */
export async function restore(target: Target, journal: Journal): Promise<Restored> {
  const { bucket } = journal;
  if (journal.created) {
    if (!(await target.bucketExists(bucket))) {
      removeJournal(journal);
      return { bucket, changed: false, text: `${bucket}: never created` };
    }
    const emptied = await deleteOwnBucket(target, bucket);
    removeJournal(journal);
    return { bucket, changed: true, text: `${bucket}: created by the run; ${emptied} and the bucket deleted` };
  }
  // Uploads first: a part stored for an open upload is storage the bucket's owner pays for, listed nowhere else.
  const aborted = await abortUploads(target, bucket, journal.prefix);
  const objects = await target.listObjects(bucket, journal.prefix);
  for (const key of objects) await target.deleteObject(bucket, key);
  const current = await target.getPolicy(bucket);
  const changed =
    objects.length > 0 || aborted > 0 || JSON.stringify(current) !== JSON.stringify(journal.originalPolicy);
  if (journal.originalPolicy) await target.putPolicy(bucket, journal.originalPolicy);
  else if (current) await target.deletePolicy(bucket);
  removeJournal(journal);
  const policy = journal.originalPolicy
    ? `its policy (${journal.originalPolicy.rules.length} rule(s)) put back`
    : 'no policy, as before';
  return {
    bucket,
    changed,
    text: `${bucket}: ${policy}; ${objects.length} object(s)${uploadsText(aborted)} under ${journal.prefix} deleted`,
  };
}

/**
 * Deletes a bucket the harness created, whatever is in it: its open uploads aborted, its objects deleted, then
 * the bucket. Says what it held (`3 object(s) and 1 open multipart upload(s)`).
 */
export async function deleteOwnBucket(target: Target, bucket: string): Promise<string> {
  const aborted = await abortUploads(target, bucket, '');
  const objects = await target.listObjects(bucket, '');
  for (const key of objects) await target.deleteObject(bucket, key);
  await target.deleteBucket?.(bucket);
  return `${objects.length} object(s)${uploadsText(aborted)}`;
}

/** Aborts the multipart uploads left open under the prefix (a flow stopped between Create and Complete). */
async function abortUploads(target: Target, bucket: string, prefix: string): Promise<number> {
  const open = await target.listMultipartUploads(bucket, prefix);
  for (const u of open) await target.abortMultipart(bucket, u.key, u.uploadId);
  return open.length;
}

const uploadsText = (aborted: number) => (aborted > 0 ? ` and ${aborted} open multipart upload(s)` : '');
