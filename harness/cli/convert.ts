import { readPolicyFile } from '../policy/file.ts';
import { LossyConversionError, serializePolicy } from '../policy/formats.ts';
import { POLICY_FORMATS, type PolicyFormat } from '../policy/model.ts';
import { restRejection, s3Rejection } from '../policy/validate.ts';
import { formatProblem } from '../schema/problems.ts';
import { EXIT, parseOptions, UsageError } from './usage.ts';

/** `r2-cors convert`: its name, summary and help are in commands.ts. */
export function run(args: string[]): number {
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
    console.error(`R2 refuses this policy: S3 API ${s3.status} ${s3.code}; REST API ${rest.status} code ${rest.code}`);
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
}
