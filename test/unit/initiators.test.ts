import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import * as zlib from 'node:zlib';
import { tableChecksum, tinyFont, tinyPng } from '../../harness/cases/assets.ts';
import { isMarkup, MEDIA_RANGE, markupRequest } from '../../harness/fetch/initiators.ts';

describe('the wire request of markup', () => {
  test('fetch() is not markup: its case fields describe it', () => {
    assert.equal(markupRequest({}), undefined);
    assert.equal(markupRequest({ initiator: 'fetch' }), undefined);
    assert.equal(isMarkup('fetch'), false);
    assert.equal(isMarkup(undefined), false);
  });
  test('fonts and module scripts are always CORS requests, without headers of their own', () => {
    assert.deepEqual(markupRequest({ initiator: 'font' }), { cors: true, headers: {} });
    assert.deepEqual(markupRequest({ initiator: 'script' }), { cors: true, headers: {} });
  });
  test('img and video are CORS requests with crossorigin (the default), no-cors without', () => {
    assert.deepEqual(markupRequest({ initiator: 'img' }), { cors: true, headers: {} });
    assert.deepEqual(markupRequest({ initiator: 'img', crossorigin: 'anonymous' }), { cors: true, headers: {} });
    assert.deepEqual(markupRequest({ initiator: 'img', crossorigin: 'none' }), { cors: false, headers: {} });
  });
  test('a video asks for bytes=0-, with or without crossorigin', () => {
    assert.equal(MEDIA_RANGE, 'bytes=0-');
    assert.deepEqual(markupRequest({ initiator: 'video' }), { cors: true, headers: { range: 'bytes=0-' } });
    assert.deepEqual(markupRequest({ initiator: 'video', crossorigin: 'none' }), {
      cors: false,
      headers: { range: 'bytes=0-' },
    });
  });
});

describe('the decodable assets', () => {
  const committed = (name: string) => readFileSync(new URL(`../../cases/assets/${name}`, import.meta.url));

  test('cases/assets/pixel.png and box.ttf are what harness/cases/assets.ts makes', () => {
    assert.deepEqual(committed('pixel.png'), tinyPng());
    assert.deepEqual(committed('box.ttf'), tinyFont());
  });

  test('the PNG is 2×2 RGBA, its chunks carry the CRC zlib computes, its rows inflate to the colour', () => {
    const png = tinyPng([1, 2, 3, 255]);
    assert.equal(png.subarray(12, 16).toString('latin1'), 'IHDR');
    assert.equal(png.readUInt32BE(16), 2);
    assert.equal(png.readUInt32BE(20), 2);
    let at = 8;
    const types: string[] = [];
    while (at < png.length) {
      const length = png.readUInt32BE(at);
      const typeAndData = png.subarray(at + 4, at + 8 + length);
      types.push(typeAndData.subarray(0, 4).toString('latin1'));
      // zlib.crc32 exists from Node 20.15.
      if (typeof zlib.crc32 === 'function') assert.equal(png.readUInt32BE(at + 8 + length), zlib.crc32(typeAndData));
      if (types.at(-1) === 'IDAT') {
        assert.deepEqual(
          [...zlib.inflateSync(typeAndData.subarray(4))],
          [0, 1, 2, 3, 255, 1, 2, 3, 255, 0, 1, 2, 3, 255, 1, 2, 3, 255],
        );
      }
      at += 12 + length;
    }
    assert.deepEqual(types, ['IHDR', 'IDAT', 'IEND']);
  });

  test('the font has the tables OTS requires, each checksum right, and the file sums to 0xB1B0AFBA', () => {
    const font = tinyFont();
    const count = font.readUInt16BE(4);
    const tags: string[] = [];
    for (let i = 0; i < count; i++) {
      const record = 12 + i * 16;
      const tag = font.subarray(record, record + 4).toString('latin1');
      tags.push(tag);
      const offset = font.readUInt32BE(record + 8);
      const table = Buffer.from(font.subarray(offset, offset + font.readUInt32BE(record + 12)));
      if (tag === 'head') table.writeUInt32BE(0, 8); // head's checksum counts checkSumAdjustment as 0
      assert.equal(font.readUInt32BE(record + 4), tableChecksum(table), tag);
    }
    assert.deepEqual(tags, ['OS/2', 'cmap', 'glyf', 'head', 'hhea', 'hmtx', 'loca', 'maxp', 'name', 'post']);
    assert.equal(tableChecksum(font), 0xb1b0afba);
  });

  test('the video is a WebM (EBML header, DocType webm)', () => {
    const webm = committed('clip.webm');
    assert.deepEqual([...webm.subarray(0, 4)], [0x1a, 0x45, 0xdf, 0xa3]);
    assert.ok(webm.subarray(0, 64).includes(Buffer.from('webm')));
  });
});
