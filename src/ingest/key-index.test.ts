import { describe, expect, it } from 'vitest';
import { hash64, KeyHashSet } from './key-index.js';

function guidLike(i: number, salt: string): string {
  const h = (i * 2654435761) >>> 0;
  return `${salt}${h.toString(16).padStart(8, '0')}-${(i & 0xffff).toString(16).padStart(4, '0')}-4000-8000-${i.toString(16).padStart(12, '0')}`;
}

describe('KeyHashSet', () => {
  it('adds keys once and reports duplicates', () => {
    const set = new KeyHashSet();
    expect(set.size).toBe(0);
    expect(set.has('a')).toBe(false);
    expect(set.add('a')).toBe(true);
    expect(set.add('b')).toBe(true);
    expect(set.add('a')).toBe(false);
    expect(set.has('a')).toBe(true);
    expect(set.has('b')).toBe(true);
    expect(set.has('c')).toBe(false);
    expect(set.size).toBe(2);
  });

  it('tells apart keys that differ only in case, order, or an empty key part', () => {
    const set = new KeyHashSet();
    expect(set.add('')).toBe(true);
    expect(set.add('ab')).toBe(true);
    expect(set.add('AB')).toBe(true);
    expect(set.add('ba')).toBe(true);
    expect(set.add('a\u001fb')).toBe(true);
    expect(set.add('a\u001f\u001fb')).toBe(true);
    expect(set.add('\u001f')).toBe(true);
    expect(set.add('')).toBe(false);
    expect(set.size).toBe(7);
  });

  it('keeps every key through many resizes and finds no key it was not given', () => {
    const n = 200_000;
    const set = new KeyHashSet();
    let fresh = 0;
    for (let i = 0; i < n; i++) if (set.add(guidLike(i, 'a'))) fresh++;
    expect(fresh).toBe(n);
    expect(set.size).toBe(n);
    let missing = 0;
    let readded = 0;
    let falsePositives = 0;
    for (let i = 0; i < n; i++) {
      if (!set.has(guidLike(i, 'a'))) missing++;
      if (set.add(guidLike(i, 'a'))) readded++;
      if (set.has(guidLike(i, 'b'))) falsePositives++;
    }
    expect(missing).toBe(0);
    expect(readded).toBe(0);
    expect(falsePositives).toBe(0);
    expect(set.size).toBe(n);
  });

  it('sizes itself for the expected count and still grows past it', () => {
    const set = new KeyHashSet(10);
    for (let i = 0; i < 5000; i++) set.add(`k${i}`);
    expect(set.size).toBe(5000);
    for (let i = 0; i < 5000; i++) expect(set.has(`k${i}`)).toBe(true);
    expect(set.has('k5000')).toBe(false);
  });

  it('hashes deterministically and never to the empty-slot marker', () => {
    expect(hash64('OfficeId-1')).toEqual(hash64('OfficeId-1'));
    expect(hash64('x')).not.toEqual(hash64('y'));
    let bad = 0;
    for (let i = 0; i < 10_000; i++) {
      const [a, b] = hash64(String(i));
      if ((a === 0 && b === 0) || a >>> 0 !== a || b >>> 0 !== b) bad++;
    }
    expect(bad).toBe(0);
  });
});
