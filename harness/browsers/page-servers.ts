/**
 * What the browsers need around them for a run: the origin server for every origin the cases name, and the
 * proxy that sends those origins to it and R2's host names to the target — through the target's own host map
 * (the emulator's listeners), or straight on to R2 for a live target. Nothing else passes.
 */
import type { LoadedCase } from '../cases/model.ts';
import { OPAQUE_PARENT } from '../clients/browser.ts';
import { parseAddress } from '../net/address-map.ts';
import type { RunState } from '../run/state.ts';
import type { Target } from '../targets/target.ts';
import { loadOrCreateCa } from '../tls/local-ca.ts';
import { startOriginServer } from './origin-server.ts';
import { type ProxyRoute, type RunningProxy, startProxy } from './proxy.ts';

export async function startPageServers(
  cases: LoadedCase[],
  target: Target,
  state: RunState,
  /** R2_CUSTOM_DOMAIN_BUCKETS: in waves, a later wave's custom-domain slot may use one wave 1 did not. */
  customPool: string[] = [],
): Promise<{ proxy: RunningProxy; close(): Promise<void> }> {
  const server = await startOriginServer(await loadOrCreateCa());
  const https: ProxyRoute[] = [];
  const http: ProxyRoute[] = [];
  for (const c of cases) {
    for (const step of c.steps) {
      if (step.kind !== 'request' || !step.request.from) continue;
      // Origin null is a sandboxed iframe in a page of OPAQUE_PARENT.
      const url = new URL(step.request.from === 'null' ? OPAQUE_PARENT : step.request.from);
      const secure = url.protocol === 'https:';
      const port = Number(url.port || (secure ? 443 : 80));
      (secure ? https : http).push({ host: url.hostname, port, to: secure ? server.https : server.http });
    }
  }
  if (target.hostMap.length > 0) {
    for (const rule of target.hostMap) https.push({ host: rule.host, to: parseAddress(rule.address) });
  } else {
    https.push({ host: '*.r2.cloudflarestorage.com', to: 'direct' }, { host: '*.r2.dev', to: 'direct' });
    const custom = new Set(customPool);
    for (const run of Object.values(state.cases)) if (run.surfaces.includes('custom')) custom.add(run.bucket);
    for (const bucket of custom)
      https.push({ host: new URL(await target.objectUrl('custom', bucket, 'x')).hostname, to: 'direct' });
  }
  // The S3 endpoint itself, after the rules above (an emulator posing as R2 is reached at its loopback address).
  const s3 = target.s3Address;
  https.push({ host: s3.host, port: s3.port, to: 'direct' });
  const proxy = await startProxy({ https, http });
  return {
    proxy,
    close: async () => {
      await proxy.close();
      await server.close();
    },
  };
}
