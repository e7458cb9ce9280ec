/**
 * Tiny files a browser can really decode, for the cases whose request comes from page markup (an image drawn to a
 * canvas, an @font-face font): a blocked image or font must fail because of CORS, never because its bytes are not
 * an image or a font. They are written to cases/assets/ by `npm run make:assets` (harness/cases/make-assets.ts) and
 * committed; test/unit/assets.test.ts checks the committed files are what these functions make.
 */
import { deflateSync } from 'node:zlib';

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

/** The CRC-32 PNG chunks carry (ISO 3309, as zlib's). */
function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** A 2×2 opaque PNG of one colour (RGBA), https://www.w3.org/TR/png-3/. */
export function tinyPng(rgba: [number, number, number, number] = [255, 128, 0, 255]): Buffer {
  const size = 2;
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header.set([8, 6, 0, 0, 0], 8); // 8 bits per channel, RGBA, deflate, adaptive filters, no interlace
  const rows = Buffer.concat(Array.from({ length: size }, () => Buffer.from([0, ...rgba, ...rgba])));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', header),
    pngChunk('IDAT', deflateSync(rows)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Big-endian writer for the font's tables. */
class Bytes {
  private parts: number[] = [];
  u8(...values: number[]) {
    for (const v of values) this.parts.push(v & 0xff);
    return this;
  }
  u16(...values: number[]) {
    for (const v of values) this.parts.push((v >> 8) & 0xff, v & 0xff);
    return this;
  }
  u32(...values: number[]) {
    for (const v of values) this.u16((v >>> 16) & 0xffff, v & 0xffff);
    return this;
  }
  tag(text: string) {
    return this.u8(...Buffer.from(text, 'latin1'));
  }
  done(): Buffer {
    return Buffer.from(this.parts);
  }
}

/** The OpenType table checksum: the sum of its big-endian uint32s, zero-padded to 4 bytes. */
export function tableChecksum(table: Uint8Array): number {
  const padded = Buffer.alloc(Math.ceil(table.length / 4) * 4);
  padded.set(table);
  let sum = 0;
  for (let i = 0; i < padded.length; i += 4) sum = (sum + padded.readUInt32BE(i)) >>> 0;
  return sum;
}

const FAMILY = 'R2CorsTest';

/**
 * A TrueType font of two glyphs, `.notdef` (empty) and `A` (a box), with the tables browsers' font sanitizers
 * (OTS in Chromium and Firefox) require. https://learn.microsoft.com/en-us/typography/opentype/spec/otff
 */
export function tinyFont(): Buffer {
  const glyphs = 2;
  const box = new Bytes()
    .u16(1, 100, 0, 500, 700) // one contour, its bounds
    .u16(3, 0) // the contour ends at point 3; no instructions
    .u8(1, 1, 1, 1) // four points on the curve, coordinates as int16 deltas
    .u16(100, 0, 400, 0) // x: 100, 100, 500, 500
    .u16(0, 700, 0, -700) // y: 0, 700, 700, 0 (clockwise: an outer contour)
    .u16(0) // pad to an even length (short loca offsets count 2-byte words)
    .done();
  const name = nameTable([
    [1, FAMILY],
    [2, 'Regular'],
    [3, FAMILY],
    [4, FAMILY],
    [6, FAMILY],
  ]);
  const tables: Record<string, Buffer> = {
    'OS/2': new Bytes()
      .u16(4, 500, 400, 5, 0) // version, xAvgCharWidth, weight, width, fsType (installable)
      .u16(650, 600, 0, 75, 650, 600, 0, 350, 50, 300, 0) // sub/superscript, strikeout, family class
      .u8(0, 0, 0, 0, 0, 0, 0, 0, 0, 0) // PANOSE
      .u32(1, 0, 0, 0) // Unicode ranges: Basic Latin
      .tag('NONE')
      .u16(0x40, 0x41, 0x41, 800, -200, 0, 800, 200) // REGULAR, first and last char, typo and win metrics
      .u32(1, 0) // code page: Latin 1
      .u16(500, 700, 0, 0x20, 1) // x-height, cap height, default and break chars, max context
      .done(),
    cmap: new Bytes()
      .u16(0, 1, 3, 1)
      .u32(12) // one subtable: Windows, Unicode BMP, at offset 12
      .u16(4, 32, 0, 4, 4, 1, 0) // format 4, length, language, segCountX2, searchRange, entrySelector, rangeShift
      .u16(0x41, 0xffff, 0) // end codes, pad
      .u16(0x41, 0xffff) // start codes
      .u16(1 - 0x41, 1) // deltas: U+0041 → glyph 1
      .u16(0, 0) // no range offsets
      .done(),
    glyf: box,
    head: new Bytes()
      .u32(0x00010000, 0x00010000, 0, 0x5f0f3cf5) // version, revision, checksum adjustment (below), magic
      .u16(0x000b, 1000) // flags, unitsPerEm
      .u32(0, 0, 0, 0) // created, modified (1904-01-01)
      .u16(100, 0, 500, 700, 0, 8, 2, 0, 0) // bounds, macStyle, lowestRecPPEM, direction hint, short loca, glyf format
      .done(),
    hhea: new Bytes().u32(0x00010000).u16(800, -200, 0, 600, 0, 100, 500, 1, 0, 0, 0, 0, 0, 0, 0, glyphs).done(),
    hmtx: new Bytes().u16(500, 0, 600, 100).done(),
    loca: new Bytes().u16(0, 0, box.length / 2).done(),
    maxp: new Bytes().u32(0x00010000).u16(glyphs, 4, 1, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0).done(),
    name,
    post: new Bytes().u32(0x00030000, 0).u16(-100, 50).u32(0, 0, 0, 0, 0).done(),
  };
  const tags = Object.keys(tables).sort();
  const dir = new Bytes().u32(0x00010000).u16(tags.length, 128, 3, tags.length * 16 - 128);
  let offset = 12 + tags.length * 16;
  const body: Buffer[] = [];
  for (const tag of tags) {
    const table = tables[tag];
    dir.tag(tag).u32(tableChecksum(table), offset, table.length);
    const padded = Buffer.alloc(Math.ceil(table.length / 4) * 4);
    padded.set(table);
    body.push(padded);
    offset += padded.length;
  }
  const font = Buffer.concat([dir.done(), ...body]);
  // head.checkSumAdjustment makes the whole file sum to 0xB1B0AFBA.
  const headAt = 12 + tags.length * 16 + body.slice(0, tags.indexOf('head')).reduce((n, b) => n + b.length, 0);
  font.writeUInt32BE((0xb1b0afba - tableChecksum(font)) >>> 0, headAt + 8);
  return font;
}

function nameTable(records: [number, string][]): Buffer {
  const strings = records.map(([, text]) => Buffer.from(text, 'utf16le').swap16());
  const out = new Bytes().u16(0, records.length, 6 + records.length * 12);
  let offset = 0;
  records.forEach(([id], i) => {
    out.u16(3, 1, 0x409, id, strings[i].length, offset);
    offset += strings[i].length;
  });
  return Buffer.concat([out.done(), ...strings]);
}
