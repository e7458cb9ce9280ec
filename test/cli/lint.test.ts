import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { r2cors } from './run-cli.ts';

test('lint on broken case files prints one file:line:col line per problem, exactly, and exits 1', () => {
  const { status, stdout } = r2cors(['lint', 'test/fixtures/lint/broken']);
  const expected = readFileSync(new URL('../fixtures/lint/expected.txt', import.meta.url), 'utf8');
  assert.equal(stdout, expected);
  assert.equal(status, 1);
});

test('every kind of problem the loader knows has a fixture', () => {
  const expected = readFileSync(new URL('../fixtures/lint/expected.txt', import.meta.url), 'utf8');
  const kinds: [string, RegExp][] = [
    ['YAML syntax error', /syntax-error\.yaml:\d+:\d+ {2}Missing closing "quote/],
    ['unknown key', /unknown-key\.yaml:8:7 {2}policy\.dashboard\[0\]\.ExposeHeader: unknown key/],
    ['wrong type', /wrong-type\.yaml:19:17 {2}requests\[0\]\.expect\.response\.status: must be a whole number/],
    ['duplicate id', /same-id\.yaml:1:5 {2}id: duplicate case id 'same-id'/],
    ['invalid policy', /invalid-policy\.yaml:6:24 {2}policy\.dashboard\[0\]\.AllowedOrigins\[0\]: origin/],
    ['missing object', /missing-object\.yaml:11:10 {2}requests\[0\]\.key: object 'absent\.txt' is not seeded/],
    ['alias bomb', /alias-bomb\.yaml:7:8 {2}Excessive alias count .*: the aliases expand to too much data/],
    ['empty file', /empty\.yaml:1:1 {2}the file is empty; a case needs at least id, title, source/],
    ['invalid policy file', /bad-rules\.json:6:28 {2}rules\[0\]\.allowed\.methods\[1\]: method 'PATCH'/],
    ['presigner without auth: presigned', /presigner-misuse\.yaml:10:5 {2}requests\[0\]\.presigner: presigner applies/],
    [
      'markup initiator with PUT',
      /initiator-misuse\.yaml:15:13 {2}requests\[0\]\.method: a font loaded by markup is fetched with GET, not PUT/,
    ],
    [
      'markup initiator with canvas',
      /initiator-misuse\.yaml:30:67 {2}requests\[1\]\.expect\.browser\.canvas: canvas applies to initiators img and video/,
    ],
    [
      'markup initiator without expect.browser',
      /initiator-misuse\.yaml:37:7 {2}requests\[2\]\.expect: initiator img needs expect\.browser/,
    ],
    [
      'bodyFile missing',
      /body-file\.yaml:7:35 {2}objects\[0\]\.bodyFile: cannot read test\/fixtures\/lint\/broken\/no-such-asset\.png: no such file/,
    ],
    [
      'bodyFile outside the project',
      /body-file\.yaml:8:35 {2}objects\[1\]\.bodyFile: \/etc\/hostname is outside the working directory/,
    ],
    [
      'body and bodyFile',
      /body-and-body-file\.yaml:7:5 {2}objects\[0\]: give the content as body or bodyFile, not both/,
    ],
    [
      'markup request of a key loaded before',
      /initiator-misuse\.yaml:58:10 {2}requests\[5\]\.key: an earlier markup request of this case loaded 'e\.png'/,
    ],
    [
      'a captured value used before it is captured',
      /capture-misuse\.yaml:11:41 {2}requests\[0\]\.query\.uploadId: uses \$\{uploadId\}, which no earlier request captures/,
    ],
    [
      'a name no request captures',
      /capture-misuse\.yaml:35:11 {2}requests\[2\]\.body: uses \$\{etag2\}, which no earlier/,
    ],
    ['body and bodyBytes together', /body-twice\.yaml:6:5 {2}requests\[0\]: give either body or bodyBytes, not both/],
  ];
  for (const [kind, line] of kinds) assert.match(expected, line, kind);
});

test('lint on the corpus finds nothing and exits 0', () => {
  const { status, stdout } = r2cors(['lint']);
  assert.match(stdout, /^\d+ case file\(s\), no problems\n$/);
  assert.equal(status, 0);
});

test('lint on a path that does not exist is a usage error', () => {
  const { status, stderr } = r2cors(['lint', 'no/such/dir']);
  assert.equal(status, 2);
  assert.match(stderr, /no such file or folder: no\/such\/dir/);
});
