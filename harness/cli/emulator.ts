import { writeFileSync } from 'node:fs';
import { FAULTS, type Fault } from '../emulator/cors.ts';
import { envFileText, startEmulator } from '../emulator/index.ts';
import { type PropagationDelay, parseDelay } from '../emulator/store.ts';
import { EXIT, parseOptions, UsageError } from './usage.ts';

/** `r2-cors emulator`: its name, summary and help are in commands.ts. */
export async function run(args: string[]): Promise<number> {
  const { values } = parseOptions(
    'emulator',
    args,
    {
      port: { type: 'string' },
      'propagation-delay': { type: 'string' },
      'data-dir': { type: 'string' },
      'write-env': { type: 'string' },
      'env-file': { type: 'string' },
      'ca-dir': { type: 'string' },
      fault: { type: 'string' },
    },
    { positionals: false },
  );
  // Node 20 takes `--env-file` as its own option wherever it appears in its arguments, even after the
  // script: npx and npm are node programs, so `npx r2-cors emulator --env-file r2.env` failed in npx itself
  // ("node: r2.env: not found") before this command ran. Hence `--write-env`, a name Node leaves alone.
  if (values['write-env'] !== undefined && values['env-file'] !== undefined)
    throw new UsageError('emulator: give --write-env or --env-file, not both');
  const envFile = values['write-env'] ?? values['env-file'];
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65532)
    throw new UsageError('emulator: --port must be a port number (0 for any)');
  let propagation: PropagationDelay;
  try {
    propagation = parseDelay(values['propagation-delay'] ?? '0');
  } catch (error) {
    throw new UsageError(`emulator: --propagation-delay: ${(error as Error).message}`);
  }

  const fault = values.fault as Fault | undefined;
  if (fault !== undefined && !FAULTS.includes(fault))
    throw new UsageError(`emulator: --fault must be one of ${FAULTS.join(', ')}`);

  let running: Awaited<ReturnType<typeof startEmulator>>;
  try {
    running = await startEmulator({
      port,
      propagation,
      dataDir: values['data-dir'],
      caDir: values['ca-dir'],
      fault,
    });
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE') throw new UsageError(`emulator: port ${port}…${port + 3} is not free (${e.message})`);
    throw error;
  }
  if (envFile) writeFileSync(envFile, envFileText(running.env), { mode: 0o600 });
  const delay =
    propagation.max === 0
      ? 'none'
      : propagation.min === propagation.max
        ? `${propagation.min} ms`
        : `${propagation.min}…${propagation.max} ms`;
  console.log(`R2 emulator running (CORS enforced; policy propagation delay: ${delay}${fault ? `; FAULT ${fault}` : ''})
  S3 API          ${running.endpoints.s3}
  REST API        ${running.env.CLOUDFLARE_API_BASE_URL}
  r2.dev URLs     ${running.endpoints.public}   (Host: pub-<32 hex>.r2.dev)
  custom domains  ${running.endpoints.custom}   (Host: the domain)
  request log     ${running.env.R2_EMULATOR_LOG_URL}
  account id      ${running.accountId}
  access key id   ${running.accessKeyId}
  secret key      ${running.secretAccessKey}
  API token       ${running.apiToken}
  CA certificate  ${running.caFile}   (trust it: NODE_EXTRA_CA_CERTS=${running.caFile})${envFile ? `\n  env file        ${envFile}` : ''}
Press Ctrl-C to stop.`);

  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await running.close();
  console.log('R2 emulator stopped.');
  return EXIT.ok;
}
