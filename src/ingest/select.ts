/**
 * Which records of a source go to a table, as data (so a connector definition can say it, and so it can be
 * posted to an encoder thread). A field is a dotted path; values compare as text, because sources send the
 * same number both ways (`"RecordType": 40` and `"RecordType": "40"`).
 */
export type RecordSelector =
  | { readonly field: string; readonly in: readonly (string | number | boolean)[] }
  /** The field is absent, null or empty. */
  | { readonly field: string; readonly empty: true }
  | { readonly all: readonly RecordSelector[] }
  | { readonly any: readonly RecordSelector[] }
  | { readonly not: RecordSelector };

function read(record: unknown, path: readonly string[]): unknown {
  let v = record;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[p];
  }
  return v;
}

/** Compiles a selector into a predicate (paths split and value sets built once). */
export function compileSelector(selector: RecordSelector): (record: unknown) => boolean {
  if ('all' in selector) {
    const parts = selector.all.map(compileSelector);
    return (r) => parts.every((p) => p(r));
  }
  if ('any' in selector) {
    const parts = selector.any.map(compileSelector);
    return (r) => parts.some((p) => p(r));
  }
  if ('not' in selector) {
    const inner = compileSelector(selector.not);
    return (r) => !inner(r);
  }
  const path = selector.field.split('.');
  if ('empty' in selector) {
    return (r) => {
      const v = read(r, path);
      return v === undefined || v === null || v === '';
    };
  }
  const values = new Set(selector.in.map(String));
  return (r) => {
    const v = read(r, path);
    return v !== undefined && v !== null && values.has(String(v));
  };
}
