/**
 * Reads case files: YAML with positions, the closed schema (Ajv), then the checks a schema cannot make
 * (policy validity as R2 judges it, unique ids, objects that must exist, links between fields). Every problem
 * of every file is collected and returned together, before anything runs.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { type Alias, type Document, isScalar, LineCounter, parseDocument, visit } from 'yaml';
import { readPolicyFile } from '../policy/file.ts';
import { type ParsedPolicy, parsePolicyData, parsePolicyText } from '../policy/formats.ts';
import { atPath, type DocPath } from '../policy/model.ts';
import type { PolicyProblem } from '../policy/validate.ts';
import { checkSchema } from '../schema/check.ts';
import { locateIn } from '../schema/locate.ts';
import { type Problem, sortProblems } from '../schema/problems.ts';
import { checkCaptures } from './captures.ts';
import type { CaseRequest, LoadedCase, PolicyRejection, SeedObject, Step } from './model.ts';

export interface LoadResult {
  cases: LoadedCase[];
  problems: Problem[];
  /** Every case file read. */
  files: string[];
  /** Paths given that do not exist. */
  missing: string[];
}

/** How a file's name is shown: relative to the working directory when inside it, with forward slashes. */
export function displayPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  const shown = relative.startsWith('..') || path.isAbsolute(relative) ? file : relative;
  return shown.split(path.sep).join('/');
}

/** Case files under the given files and folders (`.yaml`, `.yml`), sorted, each once. */
export function findCaseFiles(paths: string[]): { files: string[]; missing: string[] } {
  const files = new Set<string>();
  const missing: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (/\.ya?ml$/.test(entry.name)) files.add(path.resolve(full));
    }
  };
  for (const p of paths) {
    if (!existsSync(p)) missing.push(p);
    else if (statSync(p).isDirectory()) walk(p);
    else files.add(path.resolve(p));
  }
  return { files: [...files], missing };
}

export function loadCases(paths: string[]): LoadResult {
  const { files, missing } = findCaseFiles(paths);
  // Where a case's bodyFile may lie: the working directory, or a folder of cases being loaded (a corpus kept
  // outside the project, or a copy of it).
  const roots = [process.cwd(), ...paths.map((p) => path.resolve(p))];
  const problems: Problem[] = [];
  const cases: LoadedCase[] = [];
  const firstById = new Map<string, { file: string; line: number; col: number }>();

  for (const file of files) {
    const loaded = loadCaseFile(file, problems, roots);
    if (!loaded) continue;
    const at = loaded.locate(['id']);
    const first = firstById.get(loaded.id);
    if (first) {
      problems.push({
        file: loaded.file,
        ...at,
        path: ['id'],
        message: `duplicate case id '${loaded.id}' (first used at ${first.file}:${first.line}:${first.col})`,
      });
      continue;
    }
    firstById.set(loaded.id, { file: loaded.file, ...at });
    cases.push(loaded);
  }
  return { cases, problems: sortProblems(problems), files: files.map(displayPath), missing };
}

/** Raw case data as the schema admits it (before policies are read). */
interface RawCase {
  id: string;
  title: string;
  description?: string;
  source: string[];
  policy?: RawPolicy;
  objects?: SeedObject[];
  requests?: CaseRequest[];
  steps?: (
    | { apply: RawPolicy; rejected?: PolicyRejection }
    | { request: CaseRequest }
    | { purge: { everything?: true; keys?: string[] } }
  )[];
}
type RawPolicy = { dashboard: unknown } | { rules: unknown } | { xml: string } | { file: string } | null;

function loadCaseFile(absolute: string, problems: Problem[], roots: string[]): LoadedCase | undefined {
  const file = displayPath(absolute);
  let text: string;
  try {
    text = readFileSync(absolute, 'utf8');
  } catch (error) {
    problems.push({ file, line: 1, col: 1, path: [], message: `cannot read: ${(error as Error).message}` });
    return undefined;
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    for (const error of doc.errors) {
      problems.push({ file, ...lines.linePos(error.pos[0]), path: [], message: yamlMessage(error.message) });
    }
    return undefined;
  }
  const locate = (p: DocPath, atKey = false) => locateIn(doc, lines, p, atKey);
  const report = (p: DocPath, message: string, atKey = false) =>
    problems.push({ file, ...locate(p, atKey), path: p, message });

  if (doc.contents === null) {
    problems.push({
      file,
      line: 1,
      col: 1,
      path: [],
      message: 'the file is empty; a case needs at least id, title, source, and policy with requests or steps',
    });
    return undefined;
  }
  let raw: RawCase;
  try {
    raw = doc.toJS() as RawCase;
  } catch (error) {
    // yaml refuses to expand aliases past a limit (a "billion laughs" file); point at the alias that fans out.
    if (!(error instanceof ReferenceError)) throw error;
    problems.push({
      file,
      ...aliasBombAt(doc, lines),
      path: [],
      message: `${error.message}: the aliases expand to too much data`,
    });
    return undefined;
  }
  const issues = checkSchema('case.schema.json', raw);
  for (const issue of issues) report(issue.path, issue.message, issue.atKey);
  const before = problems.length;

  // The file name is the id (STYLE: "id slugs name files").
  const base = path.basename(absolute).replace(/\.ya?ml$/, '');
  if (typeof raw?.id === 'string' && raw.id !== base) {
    report(['id'], `id '${raw.id}' differs from the file name '${base}'; a case's id names its file`);
  }
  if (issues.length > 0) return undefined;

  const steps = stepsOf(raw, absolute, report, problems);
  checkRequests(raw, steps, report);
  checkCaptures(steps, report);
  const objects = (raw.objects ?? []).map((object, i) => withBodyFile(object, i, absolute, roots, report));
  if (problems.length > before) return undefined;
  return {
    file,
    id: raw.id,
    title: raw.title,
    description: raw.description,
    source: raw.source,
    objects,
    steps,
    locate: (p) => locate(p),
  };
}

type Report = (path: DocPath, message: string, atKey?: boolean) => void;

/** The largest bodyFile read: seeds are small test files, and each is uploaded once per case. */
const BODY_FILE_LIMIT = 1024 * 1024;

/**
 * An object whose content is a file: its bytes, read now. The file is named relative to the case file and must
 * lie inside the working directory or a folder of cases being loaded, so that a case can only upload files of
 * the project or corpus it belongs to.
 */
function withBodyFile(
  object: SeedObject,
  index: number,
  caseFile: string,
  roots: string[],
  report: Report,
): SeedObject {
  if (object.bodyFile === undefined) return object;
  const at = ['objects', index, 'bodyFile'];
  const absolute = path.resolve(path.dirname(caseFile), object.bodyFile);
  const within = (root: string) => {
    const rel = path.relative(root, absolute);
    return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
  };
  if (path.isAbsolute(object.bodyFile) || !roots.some(within)) {
    report(
      at,
      `${object.bodyFile} is outside the working directory and the case folders loaded; name a file of the project, relative to the case file`,
    );
    return object;
  }
  let size: number;
  try {
    const stat = statSync(absolute);
    if (!stat.isFile()) throw new Error('not a file');
    size = stat.size;
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    report(at, `cannot read ${displayPath(absolute)}: ${why}`);
    return object;
  }
  if (size > BODY_FILE_LIMIT) {
    report(at, `${displayPath(absolute)} is ${size} bytes; a seeded file is at most ${BODY_FILE_LIMIT} bytes`);
    return object;
  }
  return { ...object, bytes: readFileSync(absolute) };
}

function stepsOf(raw: RawCase, caseFile: string, report: Report, problems: Problem[]): Step[] {
  const applyStep = (value: RawPolicy, at: DocPath, rejected?: PolicyRejection): Step => {
    if (value === null) {
      if (rejected) report(at, 'rejected needs a policy to apply');
      return { kind: 'apply', policy: null, rejected, path: at };
    }
    const read = readPolicy(value, at, caseFile, report, problems);
    if (!read) return { kind: 'apply', policy: null, path: at };
    const { parsed, reportProblems } = read;
    if (parsed.ok) {
      // A policy R2 accepts cannot be expected to be refused; the case would be wrong, not R2.
      if (rejected) report(at, 'this policy is valid, yet the step expects R2 to reject it');
      return { kind: 'apply', policy: parsed.policy, format: parsed.format, rejected, path: at };
    }
    // A policy R2 must refuse for its values is kept, to be sent as written; its shape must still be sound.
    if (rejected && parsed.policy)
      return { kind: 'apply', policy: parsed.policy, format: parsed.format, rejected, path: at };
    reportProblems();
    return { kind: 'apply', policy: null, format: parsed.format, path: at };
  };
  if (!raw.steps) {
    return [
      applyStep(raw.policy ?? null, ['policy']),
      ...(raw.requests ?? []).map((request, i): Step => ({ kind: 'request', request, path: ['requests', i] })),
    ];
  }
  return raw.steps.map((step, i): Step => {
    if ('apply' in step) return applyStep(step.apply, ['steps', i, 'apply'], step.rejected);
    if ('request' in step) return { kind: 'request', request: step.request, path: ['steps', i, 'request'] };
    return {
      kind: 'purge',
      everything: step.purge.everything === true,
      keys: step.purge.keys ?? [],
      path: ['steps', i, 'purge'],
    };
  });
}

/**
 * A case's policy read as R2 reads it, with a function that reports its problems: into the case file for an
 * inline policy, into the policy file (JSON positions through the yaml parser) for `file:`.
 * Undefined when a policy file cannot be read (already reported).
 */
function readPolicy(
  value: Exclude<RawPolicy, null>,
  at: DocPath,
  caseFile: string,
  report: Report,
  problems: Problem[],
): { parsed: ParsedPolicy; reportProblems: () => void } | undefined {
  if ('dashboard' in value) {
    const parsed = parsePolicyData(value.dashboard, 'dashboard');
    // Dashboard problems are relative to the array.
    return {
      parsed,
      reportProblems: () => reportEach(parsed, (p) => report([...at, 'dashboard', ...p.path], p.message, p.atKey)),
    };
  }
  if ('rules' in value) {
    // The case's `rules` is the REST document's `rules`, so REST paths (`rules[0]…`) hang from the policy.
    const parsed = parsePolicyData({ rules: value.rules }, 'rules');
    return { parsed, reportProblems: () => reportEach(parsed, (p) => report([...at, ...p.path], p.message, p.atKey)) };
  }
  if ('xml' in value) {
    const parsed = parsePolicyText(value.xml, 'xml');
    return {
      parsed,
      reportProblems: () => reportEach(parsed, (p) => report([...at, 'xml'], atPath(p.path, p.message))),
    };
  }
  const absolute = path.resolve(path.dirname(caseFile), value.file);
  const read = readPolicyFile(absolute, displayPath(absolute));
  if (!read.readable) {
    report([...at, 'file'], `cannot read policy file ${displayPath(absolute)}: ${read.error}`);
    return undefined;
  }
  const reportProblems = () => {
    for (const problem of read.problems) {
      problems.push({ ...problem, message: `${problem.message} (policy of ${displayPath(caseFile)})` });
    }
  };
  return { parsed: read.parsed, reportProblems };
}

function reportEach(parsed: ParsedPolicy, each: (problem: PolicyProblem) => void) {
  if (!parsed.ok) parsed.problems.forEach(each);
}

const AUTH_SURFACES = new Set(['s3']);

/** Checks across fields that the schema cannot express. */
function checkRequests(raw: RawCase, steps: Step[], report: Report) {
  const objects = raw.objects ?? [];
  const available = new Set<string>();
  objects.forEach((object, i) => {
    if (available.has(object.key)) report(['objects', i, 'key'], `object '${object.key}' is seeded twice`);
    available.add(object.key);
  });

  const requestIds = new Map<string, DocPath>();
  /** Objects an earlier markup request of the case loaded: the browser's caches would answer the next one. */
  const loadedByMarkup = new Set<string>();
  for (const step of steps) {
    if (step.kind !== 'request') continue;
    const { request, path: at } = step;
    const first = requestIds.get(request.id);
    if (first) report([...at, 'id'], `duplicate request id '${request.id}' in this case`);
    else requestIds.set(request.id, at);

    const auth = request.auth ?? 'none';
    if (auth !== 'none' && !AUTH_SURFACES.has(request.surface)) {
      // R2 docs: presigned URLs work only on the S3 endpoint, never on a custom domain or r2.dev.
      report(
        [...at, 'auth'],
        `${auth} requests go to the S3 endpoint only; surface '${request.surface}' takes no auth`,
      );
    }
    for (const field of ['presigner', 'signedSecondsAgo', 'tampered', 'signedChecksum'] as const) {
      if (request[field] !== undefined && auth !== 'presigned') {
        report([...at, field], `${field} applies to presigned URLs only; set auth: presigned`, true);
      }
    }
    if (request.presigner?.startsWith('aws-sdk') && !['GET', 'HEAD', 'PUT', 'DELETE'].includes(request.method)) {
      report([...at, 'presigner'], `the AWS SDK presigns GET, HEAD, PUT and DELETE, not ${request.method}`);
    }
    if (request.bodyBytes !== undefined && !['PUT', 'POST'].includes(request.method)) {
      report([...at, 'bodyBytes'], `a ${request.method} request sends no body`);
    }
    if (request.query && request.presigner?.startsWith('aws-sdk')) {
      const part = request.method === 'PUT' && Object.keys(request.query).sort().join() === 'partNumber,uploadId';
      if (!part)
        report([...at, 'query'], 'with an AWS SDK presigner, a query can only be an UploadPart (partNumber, uploadId)');
    }
    if (request.signedChecksum && request.method !== 'PUT') {
      report([...at, 'signedChecksum'], `a checksum is signed into upload URLs (PUT), not ${request.method}`);
    }
    const browser = request.expect?.browser;
    if (browser && request.from === undefined) {
      report([...at, 'expect', 'browser'], "a browser check needs the page's origin: set 'from'");
    }
    checkInitiator(request, at, report);
    if ((request.initiator ?? 'fetch') !== 'fetch') {
      const object = `${request.surface} ${request.key}`;
      if (loadedByMarkup.has(object)) {
        report(
          [...at, 'key'],
          `an earlier markup request of this case loaded '${request.key}' (${request.surface}); the browser's caches could answer this one: give it a key of its own`,
        );
      }
      loadedByMarkup.add(object);
    }
    for (const block of ['preflight', 'response'] as const) {
      for (const [name, matcher] of Object.entries(request.expect?.[block]?.headers ?? {})) {
        if (typeof matcher !== 'string' && matcher.pattern !== undefined) {
          try {
            new RegExp(matcher.pattern);
          } catch (error) {
            report(
              [...at, 'expect', block, 'headers', name, 'pattern'],
              `not a valid regular expression: ${(error as Error).message}`,
            );
          }
        }
      }
    }

    const status = request.expect?.response?.status ?? request.expect?.browser?.status;
    const expectsSuccess = status === undefined || status < 400;
    if ((request.method === 'GET' || request.method === 'HEAD') && expectsSuccess && !available.has(request.key)) {
      report(
        [...at, 'key'],
        `object '${request.key}' is not seeded in objects nor uploaded by an earlier request; seed it, or expect status 404`,
      );
    }
    if ((request.method === 'PUT' || request.method === 'POST') && expectsSuccess) available.add(request.key);
  }
}

/** Fields a page sets on fetch() only: markup sends what the browser decides. */
const FETCH_ONLY = ['headers', 'body', 'credentials', 'cache', 'sendPreflight'] as const;
/** What a page cannot read of a response it did not fetch() itself. */
const FETCH_READ_ONLY = ['status', 'readable', 'unreadable', 'body'] as const;

/** A markup initiator (font, img, video, script) makes a GET the browser shapes; what makes no sense with one. */
function checkInitiator(request: CaseRequest, at: DocPath, report: Report) {
  const initiator = request.initiator ?? 'fetch';
  const media = initiator === 'img' || initiator === 'video';
  if (request.crossorigin !== undefined && !media) {
    report([...at, 'crossorigin'], `crossorigin is an attribute of img and video, not of initiator ${initiator}`, true);
  }
  const canvas = request.expect?.browser?.canvas;
  if (canvas !== undefined && !media) {
    report(
      [...at, 'expect', 'browser', 'canvas'],
      `canvas applies to initiators img and video (drawn to a canvas), not ${initiator}`,
      true,
    );
  }
  if (canvas !== undefined && request.expect?.browser?.outcome === 'blocked') {
    report([...at, 'expect', 'browser', 'canvas'], 'an element that failed to load draws nothing: drop canvas', true);
  }
  if (initiator === 'fetch') return;
  if (request.method !== 'GET') {
    report([...at, 'method'], `a ${initiator} loaded by markup is fetched with GET, not ${request.method}`);
  }
  for (const field of FETCH_ONLY) {
    if (request[field] !== undefined) {
      report(
        [...at, field],
        `${field} belongs to fetch(); initiator ${initiator} sends what the browser decides`,
        true,
      );
    }
  }
  if (request.auth === 'signed') {
    report([...at, 'auth'], 'a page cannot sign the request of an element; use auth none or presigned');
  }
  if (request.from === undefined) {
    report([...at, 'initiator'], `initiator ${initiator} is markup in a page: set 'from', the page's origin`);
  }
  const browser = request.expect?.browser;
  if (!browser) {
    report(
      [...at, 'expect'],
      `initiator ${initiator} needs expect.browser (loaded: allowed, failed: blocked); the Fetch model predicts fetch() only`,
    );
    return;
  }
  for (const field of FETCH_READ_ONLY) {
    if (browser[field] !== undefined) {
      report(
        [...at, 'expect', 'browser', field],
        `a page cannot read the ${field === 'readable' || field === 'unreadable' ? 'headers' : field} of a response to ${initiator} markup; only whether it loaded${media ? ' and the canvas' : ''}`,
        true,
      );
    }
  }
}

/** Where a document's aliases fan out: the first alias whose anchored node holds aliases itself, else the first alias. */
function aliasBombAt(doc: Document, lines: LineCounter): { line: number; col: number } {
  let first: Alias | undefined;
  let nested: Alias | undefined;
  visit(doc, {
    Alias(_, alias) {
      first ??= alias;
      const target = alias.resolve(doc);
      let holdsAlias = false;
      if (target && !isScalar(target)) {
        visit(target, {
          Alias() {
            holdsAlias = true;
            return visit.BREAK;
          },
        });
      }
      if (holdsAlias) {
        nested = alias;
        return visit.BREAK;
      }
    },
  });
  const at = (nested ?? first)?.range?.[0];
  return at === undefined ? { line: 1, col: 1 } : lines.linePos(at);
}

/** The yaml library's message without its error-code suffix; `*` at the start of a value is a common slip. */
function yamlMessage(message: string): string {
  const first = message.split('\n')[0].replace(/ at line \d+, column \d+.*$/, '');
  return /alias/i.test(first) ? `${first} (a value starting with '*' must be quoted: '*')` : first;
}
