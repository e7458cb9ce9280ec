/**
 * Browser flows that real users hit and a single request cannot show: a multipart upload driven from the page
 * with presigned UploadPart URLs, the way upload libraries do it. The page PUTs each part and must read each
 * part's ETag to let the server complete the upload — which works only when the policy exposes ETag.
 *
 * It reuses the buckets and policies of two cases of the corpus: `put-content-type-etag-exposed` (ETag
 * exposed) and `put-etag-not-exposed` (not exposed); it is skipped when the run does not include them.
 */
import { readRunState } from '../run/state.ts';
import { targetFromEnv } from '../targets/from-env.ts';
import { expect, test } from './browser-test.ts';

const ORIGIN = 'https://example.com';
const PART_BYTES = 64 * 1024;

async function uploadFromPage(
  page: import('@playwright/test').Page,
  urls: string[],
): Promise<{ status: number; etag: string | null }[] | { error: string }> {
  await page.goto(`${ORIGIN}/`);
  return page.evaluate(
    async ({ urls, size }) => {
      try {
        const parts = [];
        for (const [i, url] of urls.entries()) {
          const body = new Uint8Array(size).fill(i + 1);
          const init: Record<string, unknown> = {
            method: 'PUT',
            body,
            cache: 'no-store',
            headers: { 'content-type': 'application/octet-stream' },
          };
          const response = await fetch(url, init as RequestInit);
          parts.push({ status: response.status, etag: response.headers.get('etag') });
        }
        return parts;
      } catch (error) {
        return { error: String(error) };
      }
    },
    { urls, size: PART_BYTES },
  );
}

for (const [caseId, exposed] of [
  ['put-content-type-etag-exposed', true],
  ['put-etag-not-exposed', false],
] as const) {
  test(`multipart upload from the page (${caseId}): ${exposed ? 'completes with the parts’ ETags' : 'cannot complete, ETag unreadable'}`, async ({
    browser,
    browserName,
  }, info) => {
    const run = readRunState().cases[caseId];
    test.skip(!run || Boolean(run.error), `needs case ${caseId} in the run, its policy in effect`);
    const target = targetFromEnv().target;
    const key = `${run.prefix}multipart-${browserName}.bin`;
    const uploadId = await target.startMultipart(run.bucket, key);
    const urls = await Promise.all(
      [1, 2].map((partNumber) =>
        target.presign('PUT', run.bucket, key, 600, { partNumber: String(partNumber), uploadId }),
      ),
    );
    const proxy = process.env.R2_CORS_PROXY;
    if (!proxy) throw new Error('R2_CORS_PROXY is not set: the browsers need the set-up of `npx playwright test`');
    let completed = false;
    const context = await browser.newContext({
      proxy: { server: proxy, bypass: '<-loopback>' },
      ignoreHTTPSErrors: browserName !== 'chromium',
    });
    try {
      const parts = await uploadFromPage(await context.newPage(), urls);
      await info.attach('parts as the page saw them', {
        body: JSON.stringify(parts, null, 2),
        contentType: 'application/json',
      });
      expect(parts, 'the part uploads themselves are allowed').not.toHaveProperty('error');
      const seen = parts as { status: number; etag: string | null }[];
      expect(seen.map((p) => p.status)).toEqual([200, 200]);
      if (!exposed) {
        expect(
          seen.map((p) => p.etag),
          'without ExposeHeaders: ETag, JavaScript cannot read it',
        ).toEqual([null, null]);
        return;
      }
      expect(
        seen.every((p) => /^"[0-9a-f]{32}"$/.test(p.etag ?? '')),
        'each part’s ETag readable',
      ).toBe(true);
      const etag = await target.completeMultipart(
        run.bucket,
        key,
        uploadId,
        seen.map((p, i) => ({ partNumber: i + 1, etag: p.etag as string })),
      );
      completed = true;
      expect(etag).toMatch(/^"[0-9a-f]{32}-2"$/);
    } finally {
      // An upload left open would stay in the bucket; objects are cleaned up by the run, uploads are not.
      if (!completed) await target.abortMultipart(run.bucket, key, uploadId);
      await context.close();
      await target.close();
    }
  });
}
