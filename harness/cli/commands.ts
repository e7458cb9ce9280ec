/**
 * The commands of `r2-cors`: what `--help` shows of each, and where its implementation is. The help texts live
 * here, not in the commands' modules, so that `--help` and a mistyped command never load those modules' imports
 * (the emulator, the targets, the schema validator), which cost most of the CLI's start-up time.
 */
import { FAULTS } from '../emulator/faults.ts';
import type { Command } from './usage.ts';

export const COMMANDS: Command[] = [
  {
    name: 'lint',
    summary: 'validate case files',
    help: `Usage: r2-cors lint [paths…]

Validates case files (every .yaml/.yml under the given files and folders; default: cases) against the case
schema and R2's policy rules, and checks that ids are unique and that requested objects exist. Prints every
problem of every file, one per line:

  cases/presigned/put.yaml:14:7  requests[1].expect.preflight.status: must be a whole number

Exit status: 0 no problems, 1 problems found, 2 a path does not exist.`,
    load: () => import('./lint.ts'),
  },
  {
    name: 'convert',
    summary: "print a policy in another of R2's formats",
    help: `Usage: r2-cors convert <policy-file> --to dashboard|rules|xml [--drop-ids]

Reads a CORS policy in any of R2's formats (the dashboard JSON array, the REST API / wrangler JSON
{"rules": […]}, or S3 CORSConfiguration XML; found by its first character) and prints it in the format asked
for. Use - to read standard input.

  --to FORMAT   dashboard: for the R2 dashboard's JSON tab
                rules:     for wrangler r2 bucket cors set --file, and the REST API
                xml:       for the S3 API's PutBucketCors
  --drop-ids    the dashboard format has no rule ids: drop them instead of refusing

A policy R2 would refuse is not converted: its problems are printed with the error R2 answers.
Exit status: 0 converted, 1 the policy is invalid (or would lose its ids), 2 usage or unreadable file.`,
    load: () => import('./convert.ts'),
  },
  {
    name: 'explain',
    summary: 'say what R2 answers a browser request, rule by rule',
    help: `Usage: r2-cors explain --policy <file> --origin <origin> --method <METHOD> [--header <name[: value]>]…
                       [--credentials omit|same-origin|include] [--json]

Answers "why is my request blocked?" for a bucket policy, the way R2's docs suggest checking it: is the
origin in AllowedOrigins, the method in AllowedMethods, every header in AllowedHeaders? It says whether a
browser sends a preflight, which rule matches (or, rule by rule, why none does), the headers R2 answers to
the preflight and to the actual request, and whether the browser then lets JavaScript see the response.

  --policy FILE         the bucket's policy, in any of R2's formats
  --origin ORIGIN       the page's origin, e.g. https://example.com
  --method METHOD       GET, HEAD, PUT, POST or DELETE
  --header NAME         a header the page sets; repeat for several. 'Name: value' lets the Fetch rules decide
                        whether it is CORS-safelisted (Content-Type: text/plain is, application/json is not);
                        a bare name is taken as one the browser lists in Access-Control-Request-Headers
  --credentials MODE    the fetch() credentials mode (default same-origin)
  --json                print the evaluation as JSON

Answers that rest on R2 behaviour R2 does not document are listed at the end as assumptions.
Exit status: 0 the browser allows the request, 1 it blocks it (or the policy is invalid), 2 usage.

Example:
  r2-cors explain --policy cors.json --origin https://example.com --method PUT --header 'Content-Type: image/png'`,
    load: () => import('./explain.ts'),
  },
  {
    name: 'emulator',
    summary: 'run the embedded R2 emulator (S3 API, REST API, r2.dev and custom domains) that enforces CORS',
    help: `Usage: r2-cors emulator [--port N] [--propagation-delay D | MIN..MAX] [--data-dir DIR] [--write-env FILE]

Starts a local stand-in for Cloudflare R2 that enforces bucket CORS policies the way R2 does, on loopback:
  the S3 API (SigV4, presigned URLs), the Cloudflare REST API (/client/v4: buckets, CORS, r2.dev URL,
  custom domains, cache purge), r2.dev URLs and custom domains (chosen by Host, behind an edge cache).
It prints the endpoints, account id, keys and API token it accepts, and its CA certificate. Ctrl-C stops it.

  --port N                  first of four ports: S3 API N, REST API N+1, r2.dev N+2, custom domains N+3
                            (default: any free ports)
  --propagation-delay D     how long a policy change takes to reach requests, like R2's "up to 30 seconds":
                            a duration (0, 500ms, 2s) or a range (1s..5s, random per change). Default 0
  --data-dir DIR            keep buckets, objects and credentials in DIR (default: in memory)
  --write-env FILE          write R2_ACCOUNT_ID, R2_ACCESS_KEY_ID, R2_SECRET_ACCESS_KEY, R2_S3_ENDPOINT,
                            CLOUDFLARE_API_BASE_URL, CLOUDFLARE_API_TOKEN, CLOUDFLARE_ACCOUNT_ID,
                            NODE_EXTRA_CA_CERTS and the emulator's addresses to FILE as KEY=value lines
  --env-file FILE           the same, under its former name; through npx on Node 20 use --write-env, since
                            npx's own node reads --env-file FILE before this command starts
  --ca-dir DIR              where the local CA is kept (default: R2_CORS_CA_DIR or ~/.cache/r2-cors-conformance)
  --fault NAME              for the harness's self-tests: misbehave on purpose (${FAULTS.join(', ')};
                            README, "Targets", R2_EMULATOR_FAULT)

Example:
  r2-cors emulator --write-env r2.env &
  set -a; . ./r2.env; set +a
  npx wrangler r2 bucket cors set my-bucket --file cors.json`,
    load: () => import('./emulator.ts'),
  },
  {
    name: 'restore',
    summary: 'put back buckets an interrupted run left changed',
    help: `Usage: r2-cors restore [--list] [--run ID] [--wait SECONDS] [--delete-leftover-policies]

Before the harness changes a bucket it writes a journal (in .r2-cors/journal, or R2_CORS_STATE_DIR/journal):
the bucket's original CORS policy and the prefix its objects go under (or that the run created the bucket).
A run that ends normally, or is stopped with Ctrl-C, puts the bucket back itself. After a crash, a killed
runner or a lost machine, this command does it: for every pending journal of the target configured in the
environment (CORS_TARGET, R2_* or S3_* variables, as for a run), it puts the original policy back (or deletes
the policy if there was none), aborts the multipart uploads left open and deletes every object under the
run's prefix (a bucket the run created: every upload, every object and the bucket), and removes the journal.
Journals of other targets are listed and left alone.

A run still alive holds its journals: restore does not touch them beside it, and says so (--wait to wait).

It then looks for leftovers no journal covers (on the buckets of R2_BUCKETS / S3_BUCKETS, else on every
bucket): objects under r2-cors-run-*/ are deleted and uploads open there aborted; a policy carrying the
harness's marks (the probe origin https://r2-cors-probe-*.invalid or its exposed header) cannot be put back,
since its owner's policy was never recorded: it is named, and deleted only with --delete-leftover-policies.

  --list                       only list pending journals and runs still alive
  --run ID                     only the journals of run ID
  --wait SECONDS               wait this long for live runs that hold journals to end (default 0: refuse)
  --delete-leftover-policies   delete policies left by an interrupted run without a journal

Exit status: 0 nothing left to restore, 1 a bucket could not be restored (or a live run holds it),
2 usage or configuration error.`,
    load: () => import('./restore.ts'),
  },
  {
    name: 'diff',
    summary: 'what changed between two runs (two conformance.json)',
    help: `Usage: r2-cors diff <old conformance.json> <new conformance.json> [--json | --markdown]

Compares two runs' reports/conformance.json, check by check (case › request › client):

  newly failing / newly passing   checks whose result changed
  new cases / removed cases       cases in only one of the runs
  raw header values that changed  status and access-control-* / vary values of the raw exchanges

A run given CORS_BASELINE=<old conformance.json> opens its conformance page and summary.md with the same.

  --json       print the changes as JSON
  --markdown   print them as Markdown (as in summary.md)

Exit status: 0 (a change is news, not an error), 2 usage error or unreadable file.`,
    load: () => import('./diff.ts'),
  },
  {
    name: 'calibrate',
    summary: "say which of the profile's assumptions a run confirmed or contradicted",
    help: `Usage: r2-cors calibrate <observations.json> [--cases PATH] [--json]

Reads the raw exchanges a run observed (reports/observations.json, written by every 'npx playwright test')
and, for every field of the profile of R2's undocumented behaviour (harness/cors/profile.ts), says:

  confirmed      the exchanges that show the field agree with the profile
  contradicted   with the value seen and the exchange that shows it
  not observed   naming the case that would observe it, or "no case observes this: add one"

Then, for every 'assumed:' expectation of the case files, whether it held on that target: raw expectations
from the observations, browser expectations from the conformance.json next to the observations (when there).
Run it on the observations of a live nightly to turn the profile's assumptions into facts.

  --cases PATH   the case files (default: cases), to name observers and list 'assumed:' expectations
  --json         print the calibration as JSON, for tools

Exit status: 0 nothing contradicted, 1 a field contradicted or an assumed expectation did not hold,
2 usage error or unreadable file.`,
    load: () => import('./calibrate.ts'),
  },
];
