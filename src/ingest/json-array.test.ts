import { describe, expect, it } from 'vitest';
import { JsonArrayError, splitJsonArray } from './json-array.js';

const texts = (body: string) => splitJsonArray(Buffer.from(body)).map((l) => l.bytes!.toString());

describe('splitJsonArray', () => {
  it('splits elements without parsing them, keeping nested arrays, objects and escaped quotes', () => {
    const body = ' [ {"a":[1,{"b":"]}"}]} , {"c":"x\\"y,z"},{"d":{}}\n] \n';
    expect(texts(body)).toEqual(['{"a":[1,{"b":"]}"}]}', '{"c":"x\\"y,z"}', '{"d":{}}']);
    expect(texts(body).map((t) => JSON.parse(t))).toEqual(JSON.parse(body));
  });

  it('ends a string at a quote after an escaped backslash, not at an escaped quote', () => {
    const records = [{ a: 'ends with a backslash \\' }, { b: 'quote " inside, and \\" both' }];
    const body = JSON.stringify(records);
    expect(texts(body).map((t) => JSON.parse(t))).toEqual(records);
  });

  it('numbers elements from 1 and accepts an empty array and a byte-order mark', () => {
    expect(splitJsonArray(Buffer.from('[]'))).toEqual([]);
    const lines = splitJsonArray(Buffer.from('\ufeff[{"a":1},{"b":2}]'));
    expect(lines.map((l) => l.number)).toEqual([1, 2]);
  });

  it.each([
    ['[{"a":1},{"b":', 'ends before the array is closed'],
    ['[{"a":"unterminated', 'inside a string'],
    ['{"a":1}', 'not a JSON array'],
    ['', 'empty'],
    ['[{"a":1},,{"b":2}]', 'missing'],
    ['[{"a":1}{"b":2}]', 'comma is missing'],
    ['[{"a":1}] x', 'follows the end'],
  ])('rejects %j (%s)', (body, message) => {
    expect(() => splitJsonArray(Buffer.from(body))).toThrow(JsonArrayError);
    expect(() => splitJsonArray(Buffer.from(body))).toThrow(message);
  });
});
