/**
 * The set of record keys a table already holds, used to store each source record once.
 *
 * Keys are kept as 64-bit hashes in an open-addressing table (8 bytes a slot, at most half full), so
 * a million keys cost 16 to 32 MiB instead of the ~100 MiB a `Set<string>` of GUIDs would. Two different
 * keys share a hash with probability ~n²/2⁶⁵ (3·10⁻⁸ for a million keys).
 */
export class KeyHashSet {
  private hi: Uint32Array;
  private lo: Uint32Array;
  private used = 0;

  constructor(expected = 1024) {
    let capacity = 1024;
    while (capacity < expected * 2) capacity *= 2;
    this.hi = new Uint32Array(capacity);
    this.lo = new Uint32Array(capacity);
  }

  get size(): number {
    return this.used;
  }

  has(key: string): boolean {
    const [h, l] = hash64(key);
    return this.find(h, l) >= 0;
  }

  /** Adds the key; false when it was already there. */
  add(key: string): boolean {
    const [h, l] = hash64(key);
    if (this.find(h, l) >= 0) return false;
    if ((this.used + 1) * 2 > this.hi.length) this.grow();
    this.insert(h, l);
    return true;
  }

  private find(h: number, l: number): number {
    const mask = this.hi.length - 1;
    let i = (l ^ h) & mask;
    for (;;) {
      const sh = this.hi[i]!;
      const sl = this.lo[i]!;
      if (sh === 0 && sl === 0) return -1;
      if (sh === h && sl === l) return i;
      i = (i + 1) & mask;
    }
  }

  private insert(h: number, l: number): void {
    const mask = this.hi.length - 1;
    let i = (l ^ h) & mask;
    while (this.hi[i] !== 0 || this.lo[i] !== 0) i = (i + 1) & mask;
    this.hi[i] = h;
    this.lo[i] = l;
    this.used++;
  }

  private grow(): void {
    const oldHi = this.hi;
    const oldLo = this.lo;
    this.hi = new Uint32Array(oldHi.length * 2);
    this.lo = new Uint32Array(oldLo.length * 2);
    this.used = 0;
    for (let i = 0; i < oldHi.length; i++) {
      if (oldHi[i] !== 0 || oldLo[i] !== 0) this.insert(oldHi[i]!, oldLo[i]!);
    }
  }
}

/**
 * Two independent 32-bit hashes of the UTF-16 code units (FNV-1a and a murmur-style mix with another seed).
 * (0, 0) marks an empty slot, so it is remapped.
 */
export function hash64(key: string): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  a ^= a >>> 16;
  a = Math.imul(a, 0x85ebca6b);
  a ^= a >>> 13;
  b = Math.imul(b ^ key.length, 0xc2b2ae35);
  b ^= b >>> 16;
  a >>>= 0;
  b >>>= 0;
  if (a === 0 && b === 0) b = 1;
  return [a, b];
}
