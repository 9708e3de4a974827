import { describe, expect, it } from 'vitest';
import { type Line, readLineGroups } from './line-reader.js';

const MAX = 16 * 1024 * 1024;
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

async function* feed(
  parts: readonly (Buffer | Uint8Array | string)[],
): AsyncGenerator<Buffer | Uint8Array | string> {
  for (const p of parts) yield p;
}

/** Splits `data` into pieces of `size` bytes. */
function pieces(data: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) out.push(data.subarray(i, i + size));
  return out;
}

async function read(
  parts: readonly (Buffer | Uint8Array | string)[],
  startOffset = 0,
  startLine = 1,
  maxLineBytes = MAX,
): Promise<Line[]> {
  const lines: Line[] = [];
  for await (const group of readLineGroups(feed(parts), startOffset, startLine, maxLineBytes))
    lines.push(...group);
  return lines;
}

/** The lines as plain values, easy to compare. */
function plain(lines: Line[]) {
  return lines.map((l) => ({
    number: l.number,
    text: l.bytes?.toString('utf8'),
    length: l.length,
    endOffset: l.endOffset,
  }));
}

describe('readLineGroups: lines', () => {
  it('gives exact line numbers and end offsets across chunk boundaries', async () => {
    const lines = await read(['a', '\nb', 'b\ncc', 'c\n']);
    expect(plain(lines)).toEqual([
      { number: 1, text: 'a', length: 1, endOffset: 2 },
      { number: 2, text: 'bb', length: 2, endOffset: 5 },
      { number: 3, text: 'ccc', length: 3, endOffset: 9 },
    ]);
    expect(lines.every((l) => l.head === undefined)).toBe(true);
  });

  it('reassembles a multi-byte UTF-8 character split between chunks, at every split point', async () => {
    const text = '{"n":"€é"}\n{"n":"𝄞"}\n';
    const data = Buffer.from(text);
    const expected = [
      { number: 1, text: '{"n":"€é"}', length: 13, endOffset: 14 },
      { number: 2, text: '{"n":"𝄞"}', length: 12, endOffset: 27 },
    ];
    // € is 3 bytes, é 2, 𝄞 4.
    expect(data.length).toBe(27);
    for (let split = 1; split < data.length; split++) {
      const lines = await read([data.subarray(0, split), data.subarray(split)]);
      expect(plain(lines), `split at ${split}`).toEqual(expected);
    }
    expect(plain(await read(pieces(data, 1)))).toEqual(expected);
    expect(plain(await read([new Uint8Array(data)]))).toEqual(expected);
  });

  it('strips the \\r of \\r\\n from the bytes but counts it in length and offsets', async () => {
    const expected = [
      { number: 1, text: 'a', length: 2, endOffset: 3 },
      { number: 2, text: 'bb', length: 3, endOffset: 7 },
      { number: 3, text: 'c', length: 1, endOffset: 9 },
    ];
    expect(plain(await read(['a\r\nbb\r\nc\n']))).toEqual(expected);
    // The \r and the \n in different chunks.
    expect(plain(await read(['a\r', '\nbb\r', '\n', 'c\n']))).toEqual(expected);
    expect(plain(await read(pieces(Buffer.from('a\r\nbb\r\nc\n'), 1)))).toEqual(expected);
  });

  it('keeps a \\r that is not at the end of the line', async () => {
    expect(plain(await read(['a\rb\n']))).toEqual([{ number: 1, text: 'a\rb', length: 3, endOffset: 4 }]);
  });

  it('skips a byte-order mark at offset 0 but counts its 3 bytes in the offsets', async () => {
    const data = Buffer.concat([BOM, Buffer.from('{"a":1}\n{"b":2}\n')]);
    const expected = [
      { number: 1, text: '{"a":1}', length: 7, endOffset: 11 },
      { number: 2, text: '{"b":2}', length: 7, endOffset: 19 },
    ];
    expect(plain(await read([data]))).toEqual(expected);
    expect(plain(await read([data.subarray(0, 3), data.subarray(3)]))).toEqual(expected);
    expect(plain(await read([data.subarray(0, 5), data.subarray(5)]))).toEqual(expected);
  });

  it('skips a byte-order mark split between the first chunks', async () => {
    const data = Buffer.concat([BOM, Buffer.from('{"a":1}\n')]);
    const expected = [{ number: 1, text: '{"a":1}', length: 7, endOffset: 11 }];
    expect(plain(await read([data.subarray(0, 1), data.subarray(1)]))).toEqual(expected);
    expect(plain(await read([data.subarray(0, 2), data.subarray(2)]))).toEqual(expected);
    expect(plain(await read(pieces(data, 1)))).toEqual(expected);
    expect(plain(await read([Buffer.alloc(0), data.subarray(0, 2), data.subarray(2)]))).toEqual(expected);
  });

  it('keeps the first bytes of an input that only starts like a byte-order mark', async () => {
    const partial = Buffer.from([0xef, 0xbb]);
    const lines = await read([partial]);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.bytes).toEqual(partial);
    expect(lines[0]!.endOffset).toBe(2);
    const other = Buffer.concat([Buffer.from([0xef]), Buffer.from('x\n')]);
    const two = await read([other.subarray(0, 1), other.subarray(1)]);
    expect(two[0]!.bytes).toEqual(Buffer.from([0xef, 0x78]));
    expect(two[0]!.endOffset).toBe(3);
  });

  it('does not strip a byte-order mark when the input does not start at offset 0', async () => {
    const data = Buffer.concat([BOM, Buffer.from('x\n')]);
    const lines = await read([data], 50, 4);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.bytes).toEqual(data.subarray(0, 4));
    expect(lines[0]!.number).toBe(4);
    expect(lines[0]!.endOffset).toBe(55);
  });

  it('yields a final line that has no line break', async () => {
    expect(plain(await read(['a\nb', 'c']))).toEqual([
      { number: 1, text: 'a', length: 1, endOffset: 2 },
      { number: 2, text: 'bc', length: 2, endOffset: 4 },
    ]);
    expect(plain(await read(['a\n']))).toEqual([{ number: 1, text: 'a', length: 1, endOffset: 2 }]);
    expect(await read([])).toEqual([]);
    expect(await read([''])).toEqual([]);
  });

  it('yields empty lines with their own numbers', async () => {
    expect(plain(await read(['a\n\n\r\nb\n']))).toEqual([
      { number: 1, text: 'a', length: 1, endOffset: 2 },
      { number: 2, text: '', length: 0, endOffset: 3 },
      { number: 3, text: '', length: 1, endOffset: 5 },
      { number: 4, text: 'b', length: 1, endOffset: 7 },
    ]);
  });

  it('carries startOffset and startLine through', async () => {
    expect(plain(await read(['x\nyy', 'y\n'], 1000, 42))).toEqual([
      { number: 42, text: 'x', length: 1, endOffset: 1002 },
      { number: 43, text: 'yyy', length: 3, endOffset: 1006 },
    ]);
  });

  it('accepts a line of exactly maxLineBytes', async () => {
    const lines = await read(['0123456789\n'], 0, 1, 10);
    expect(lines[0]!.bytes?.toString()).toBe('0123456789');
  });

  describe('a line longer than maxLineBytes', () => {
    const longLength = 200_000;
    const long = Buffer.alloc(longLength);
    for (let i = 0; i < longLength; i++) long[i] = 97 + (i % 26);
    const data = Buffer.concat([long, Buffer.from('\nnext\n')]);

    function check(lines: Line[]) {
      expect(lines).toHaveLength(2);
      const [tooLong, next] = lines as [Line, Line];
      expect(tooLong.bytes).toBeUndefined();
      expect(tooLong.number).toBe(1);
      expect(tooLong.length).toBe(longLength);
      expect(tooLong.endOffset).toBe(longLength + 1);
      expect(tooLong.head?.length).toBe(64 * 1024);
      expect(tooLong.head?.equals(long.subarray(0, 64 * 1024))).toBe(true);
      expect(next.bytes?.toString()).toBe('next');
      expect(next.head).toBeUndefined();
      expect(next.number).toBe(2);
      expect(next.length).toBe(4);
      expect(next.endOffset).toBe(longLength + 6);
    }

    it('is reported without its bytes when it arrives in many chunks', async () => {
      check(await read(pieces(data, 16 * 1024), 0, 1, 100_000));
      check(await read(pieces(data, 7_777), 0, 1, 100_000));
    });

    it('is reported without its bytes when it arrives in one chunk', async () => {
      check(await read([data], 0, 1, 100_000));
    });

    it('is reported when it is the last line and has no line break', async () => {
      const lines = await read([...pieces(long, 30_000)], 10, 3, 100_000);
      expect(lines).toHaveLength(1);
      expect(lines[0]!.bytes).toBeUndefined();
      expect(lines[0]!.number).toBe(3);
      expect(lines[0]!.length).toBe(longLength);
      expect(lines[0]!.endOffset).toBe(10 + longLength);
      expect(lines[0]!.head?.equals(long.subarray(0, 64 * 1024))).toBe(true);
    });

    it('keeps the whole line as head when it is shorter than 64 KiB', async () => {
      const lines = await read(['0123456789abcdef\nok\n'], 0, 1, 10);
      expect(lines[0]!.bytes).toBeUndefined();
      expect(lines[0]!.head?.toString()).toBe('0123456789abcdef');
      expect(lines[0]!.length).toBe(16);
      expect(lines[1]!.bytes?.toString()).toBe('ok');
      expect(lines[1]!.endOffset).toBe(20);
    });
  });
});

describe('readLineGroups: groups', () => {
  it('yields the lines each chunk completes, together, with exact numbers and offsets', async () => {
    const parts = ['{"a":1}\n{"a":2}\n{"a"', ':3}\n', 'x', '\r\n\n{"b":4}'];
    const groups: Line[][] = [];
    for await (const group of readLineGroups(feed(parts), 0, 1, MAX)) groups.push(group);
    expect(groups.map((g) => g.map((l) => l.number))).toEqual([[1, 2], [3], [4, 5], [6]]);
    expect(groups.flat().map((l) => l.endOffset)).toEqual([8, 16, 24, 27, 28, 35]);
    expect(plain(groups.flat()).map((l) => l.text)).toEqual([
      '{"a":1}',
      '{"a":2}',
      '{"a":3}',
      'x',
      '',
      '{"b":4}',
    ]);
  });
});
