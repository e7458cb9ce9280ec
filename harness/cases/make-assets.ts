/**
 * `npm run make:assets`: writes the decodable files of cases/assets/ (see its README). The PNG and the font come
 * from harness/cases/assets.ts; the video is recorded by Chromium itself (MediaRecorder on a canvas, VP8 in WebM),
 * since no encoder is a dependency of this project. Run it only to change an asset; the files are committed.
 */
import { writeFileSync } from 'node:fs';
import { chromium } from '@playwright/test';
import { detectBrowsers } from '../browsers/detect.ts';
import { tinyFont, tinyPng } from './assets.ts';

const dir = new URL('../../cases/assets/', import.meta.url);

async function recordWebm(): Promise<Buffer> {
  const choice = detectBrowsers({ CORS_BROWSERS: 'chromium' }).found[0];
  const browser = await chromium.launch(choice.launchOptions);
  try {
    const page = await browser.newPage();
    // Page-side code as text: the harness is type-checked without the DOM's types.
    const base64 = (await page.evaluate(`(async () => {
      const canvas = document.createElement('canvas');
      canvas.width = 16;
      canvas.height = 16;
      const g = canvas.getContext('2d');
      const recorder = new MediaRecorder(canvas.captureStream(10), { mimeType: 'video/webm;codecs=vp8' });
      const chunks = [];
      recorder.ondataavailable = (e) => chunks.push(e.data);
      const stopped = new Promise((resolve) => { recorder.onstop = resolve; });
      recorder.start();
      for (let i = 0; i < 6; i++) {
        g.fillStyle = i % 2 ? '#ff8000' : '#0080ff';
        g.fillRect(0, 0, 16, 16);
        await new Promise((r) => setTimeout(r, 100));
      }
      recorder.stop();
      await stopped;
      const bytes = new Uint8Array(await new Blob(chunks).arrayBuffer());
      let text = '';
      for (const b of bytes) text += String.fromCharCode(b);
      return btoa(text);
    })()`)) as string;
    return Buffer.from(base64, 'base64');
  } finally {
    await browser.close();
  }
}

writeFileSync(new URL('pixel.png', dir), tinyPng());
writeFileSync(new URL('box.ttf', dir), tinyFont());
writeFileSync(new URL('clip.webm', dir), await recordWebm());
console.log('wrote cases/assets/pixel.png, box.ttf, clip.webm');
