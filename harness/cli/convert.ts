import { readPolicyFile } from '../policy/file.ts';
import { LossyConversionError, serializePolicy } from '../policy/formats.ts';
import { POLICY_FORMATS, type PolicyFormat } from '../policy/model.ts';
import { restRejection, s3Rejection } from '../policy/validate.ts';
import { formatProblem } from '../schema/problems.ts';
import { type Command, EXIT, parseOptions, UsageError } from './usage.ts';

export const convert: Command = {
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
  run(args) {
    const { values, positionals } = parseOptions('convert', args, {
      to: { type: 'string' },
      'drop-ids': { type: 'boolean' },
    });
    if (positionals.length !== 1) throw new UsageError('convert: give exactly one policy file (or -)');
    const to = values.to as PolicyFormat | undefined;
    if (!to || !POLICY_FORMATS.includes(to))
      throw new UsageError(`convert: --to must be one of ${POLICY_FORMATS.join(', ')}`);
    const file = positionals[0];
    const read = readPolicyFile(file, file === '-' ? '<stdin>' : file);
    if (!read.readable) throw new UsageError(`convert: cannot read ${file}: ${read.error}`);
    if (!read.parsed.ok) {
      for (const problem of read.problems) console.error(formatProblem(problem));
      const s3 = s3Rejection(read.parsed.problems);
      const rest = restRejection(read.parsed.problems);
      console.error(
        `R2 refuses this policy: S3 API ${s3.status} ${s3.code}; REST API ${rest.status} code ${rest.code}`,
      );
      return EXIT.findings;
    }
    try {
      process.stdout.write(serializePolicy(read.parsed.policy, to, { dropIds: values['drop-ids'] }));
    } catch (error) {
      if (!(error instanceof LossyConversionError)) throw error;
      console.error(`convert: ${error.message} (--drop-ids)`);
      return EXIT.findings;
    }
    return EXIT.ok;
  },
};
