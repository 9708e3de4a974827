import { describe, expect, it } from 'vitest';
import { TableCatalog } from '../workspace/catalog.js';
import type { KqlError } from './errors.js';
import { analyze, loadLanguage } from './language.js';
import { compileQuery } from './run.js';

const catalog = new TableCatalog();
const sql = (q: string) => compileQuery(q, catalog).sql;

describe('compileQuery: golden SQL', () => {
  it('column pruning: a table is read for the columns the query uses; unread extends are dropped', () => {
    expect(
      sql(
        'OfficeActivity | extend unused = strlen(UserAgent), Folder = tostring(parse_json(Item).ParentFolder.Name) | summarize count() by Folder',
      ),
    ).toMatchInlineSnapshot(
      `"SELECT __k0 AS \`Folder\`, __a0 AS \`count_\` FROM (SELECT __k0, toInt64(count()) AS __a0 FROM (SELECT *, \`Folder\` AS __k0 FROM (SELECT \`Item\`, ifNull(JSONExtract(\`Item\`, 'ParentFolder', 'Name', 'Nullable(String)'), '') AS \`Folder\` FROM (SELECT \`Item\` FROM \`vigil\`.\`OfficeActivity\`) AS __s0) AS __s1) AS __s2 GROUP BY __k0) AS __s3"`,
    );
  });

  it('lookup, in over a tabular let, make-series', () => {
    expect(
      sql(
        'let admins = SecurityAlert | where AlertSeverity == "High" | distinct CompromisedEntity; OfficeActivity | where UserId in (admins) | lookup (datatable(UserId:string, Dept:string)["a","IT"]) on UserId | project UserId, Dept',
      ),
    ).toMatchInlineSnapshot(
      `"SELECT \`UserId\`, \`Dept\` FROM (SELECT __j0 AS \`UserId\`, __j1 AS \`Dept\` FROM (SELECT __l2.\`UserId\` AS __j0, __r3.\`Dept\` AS __j1 FROM (SELECT \`UserId\` FROM \`vigil\`.\`OfficeActivity\` WHERE (\`UserId\` IN (SELECT \`CompromisedEntity\` FROM (SELECT DISTINCT \`CompromisedEntity\` FROM (SELECT \`AlertSeverity\`, \`CompromisedEntity\` FROM \`vigil\`.\`SecurityAlert\` WHERE (\`AlertSeverity\` = 'High')) AS __s0) AS __s1))) AS __l2 LEFT OUTER JOIN (SELECT \`UserId\`, \`Dept\` FROM (SELECT * FROM values('\`UserId\` String, \`Dept\` String', ('a', 'IT'))) AS __s4) AS __r3 ON __l2.\`UserId\` = __r3.\`UserId\`) AS __s5) AS __s6"`,
    );
    expect(
      sql(
        'OfficeActivity | make-series n=count() default=0 on TimeGenerated from datetime(2024-05-01) to datetime(2024-05-02) step 1h by Operation',
      ),
    ).toMatchInlineSnapshot(
      `"SELECT \`Operation\`, \`n\`, \`TimeGenerated\` FROM (SELECT __k0 AS \`Operation\`, concat('[', arrayStringConcat(arrayMap(__i -> if(has(__bis, __i), ifNull(if(isNull(arrayElement(__vs0, indexOf(__bis, __i))), NULL, toString(arrayElement(__vs0, indexOf(__bis, __i)))), 'null'), ifNull(if(isNull(0), NULL, toString(0)), 'null')), range(toUInt64(greatest(intDiv(reinterpretAsInt64(toDateTime64(parseDateTime64BestEffort('2024-05-02', 7, 'UTC'), 7, 'UTC')) - reinterpretAsInt64(toDateTime64(parseDateTime64BestEffort('2024-05-01', 7, 'UTC'), 7, 'UTC')) + toInt64(toInt64(36000000000)) - 1, toInt64(toInt64(36000000000))), 0)))), ','), ']') AS \`n\`, concat('[', arrayStringConcat(arrayMap(__i -> concat('"', replaceOne(toString(reinterpret(reinterpretAsInt64(toDateTime64(parseDateTime64BestEffort('2024-05-01', 7, 'UTC'), 7, 'UTC')) + toInt64(__i) * toInt64(toInt64(36000000000)), 'DateTime64(7, \\'UTC\\')')), ' ', 'T'), 'Z"'), range(toUInt64(greatest(intDiv(reinterpretAsInt64(toDateTime64(parseDateTime64BestEffort('2024-05-02', 7, 'UTC'), 7, 'UTC')) - reinterpretAsInt64(toDateTime64(parseDateTime64BestEffort('2024-05-01', 7, 'UTC'), 7, 'UTC')) + toInt64(toInt64(36000000000)) - 1, toInt64(toInt64(36000000000))), 0)))), ','), ']') AS \`TimeGenerated\` FROM (SELECT __k0, groupArray(__bi) AS __bis, groupArray(__v0) AS __vs0 FROM (SELECT __k0, __bi, toInt64(count()) AS __v0 FROM (SELECT *, \`Operation\` AS __k0, intDiv(reinterpretAsInt64(toDateTime64(\`TimeGenerated\`, 7, 'UTC')) - reinterpretAsInt64(toDateTime64(parseDateTime64BestEffort('2024-05-01', 7, 'UTC'), 7, 'UTC')), toInt64(toInt64(36000000000))) AS __bi FROM (SELECT \`TimeGenerated\`, \`Operation\` FROM \`vigil\`.\`OfficeActivity\`) AS __s0 WHERE reinterpretAsInt64(toDateTime64(\`TimeGenerated\`, 7, 'UTC')) >= reinterpretAsInt64(toDateTime64(parseDateTime64BestEffort('2024-05-01', 7, 'UTC'), 7, 'UTC')) AND reinterpretAsInt64(toDateTime64(\`TimeGenerated\`, 7, 'UTC')) < reinterpretAsInt64(toDateTime64(parseDateTime64BestEffort('2024-05-02', 7, 'UTC'), 7, 'UTC'))) AS __s1 GROUP BY __k0, __bi) AS __s2 GROUP BY __k0) AS __s3) AS __s4"`,
    );
  });

  it('where + project over a workspace table', () => {
    expect(
      sql('SecurityAlert | where AlertSeverity == "High" | project AlertName, TimeGenerated'),
    ).toMatchInlineSnapshot(
      `"SELECT \`AlertName\`, \`TimeGenerated\` FROM (SELECT \`TimeGenerated\`, \`AlertName\`, \`AlertSeverity\` FROM \`vigil\`.\`SecurityAlert\` WHERE (\`AlertSeverity\` = 'High')) AS __s0"`,
    );
  });

  it('has with a plain term uses hasTokenCaseInsensitive; with separators a boundary regex', () => {
    expect(
      sql('OfficeActivity | where Operation has "FileAccessed" or ClientIP has "10.1.2.3" | count'),
    ).toMatchInlineSnapshot(
      `"SELECT toInt64(count()) AS \`Count\` FROM \`vigil\`.\`OfficeActivity\` WHERE (hasTokenCaseInsensitive(\`Operation\`, 'FileAccessed') OR match(\`ClientIP\`, '(?i)(?:^|[^\\\\p{L}\\\\p{N}])10\\\\.1\\\\.2\\\\.3(?:$|[^\\\\p{L}\\\\p{N}])'))"`,
    );
  });

  it('=~, in~, contains, startswith', () => {
    expect(
      sql(
        'OfficeActivity | where UserId =~ "A@B.com" and Operation in~ ("x", "y") and OfficeObjectId contains "%" and UserId startswith "adm" | count',
      ),
    ).toMatchInlineSnapshot(
      `"SELECT toInt64(count()) AS \`Count\` FROM \`vigil\`.\`OfficeActivity\` WHERE ((((lowerUTF8(\`UserId\`) = lowerUTF8('A@B.com')) AND (lowerUTF8(\`Operation\`) IN (lowerUTF8('x'), lowerUTF8('y')))) AND (positionCaseInsensitiveUTF8(\`OfficeObjectId\`, '%') > 0)) AND startsWith(lowerUTF8(\`UserId\`), lowerUTF8('adm')))"`,
    );
  });

  it('dynamic paths with negative index and tostring', () => {
    expect(
      sql('datatable(d:dynamic)[dynamic({"a":[1,2]})] | extend x = tostring(d.a[-1]), y = d["b"].c'),
    ).toMatchInlineSnapshot(
      `"SELECT \`d\`, \`x\`, nullIf(JSONExtractRaw(\`d\`, 'b', 'c'), '') AS \`y\` FROM (SELECT \`d\`, ifNull(JSONExtract(\`d\`, 'a', -1, 'Nullable(String)'), '') AS \`x\` FROM (SELECT * FROM values('\`d\` Nullable(String)', ('{"a":[1,2]}'))) AS __s0) AS __s1"`,
    );
  });

  it('summarize with default names and bin', () => {
    expect(
      sql('SecurityAlert | summarize count(), max(TimeGenerated) by bin(TimeGenerated, 1h), AlertName'),
    ).toMatchInlineSnapshot(
      `"SELECT __k0 AS \`TimeGenerated\`, __k1 AS \`AlertName\`, __a0 AS \`count_\`, __a1 AS \`max_TimeGenerated\` FROM (SELECT __k0, __k1, toInt64(count()) AS __a0, maxOrNull(\`TimeGenerated\`) AS __a1 FROM (SELECT *, reinterpret(reinterpretAsUInt64(\`TimeGenerated\`) - (reinterpretAsUInt64(\`TimeGenerated\`) + 621355968000000000) % 36000000000, 'DateTime64(7, \\'UTC\\')') AS __k0, \`AlertName\` AS __k1 FROM (SELECT \`TimeGenerated\`, \`AlertName\` FROM \`vigil\`.\`SecurityAlert\`) AS __s0) AS __s1 GROUP BY __k0, __k1) AS __s2"`,
    );
  });

  it('arg_max(x, *)', () => {
    expect(
      sql('datatable(u:string, n:long, s:string)["a",1,"x"] | summarize arg_max(n, *) by u'),
    ).toMatchInlineSnapshot(
      `"SELECT __k0 AS \`u\`, tupleElement(__a0, 1) AS \`n\`, tupleElement(__a0, 2) AS \`s\` FROM (SELECT __k0, argMax(tuple(\`n\`, \`s\`), \`n\`) AS __a0 FROM (SELECT *, \`u\` AS __k0 FROM (SELECT * FROM values('\`u\` String, \`n\` Nullable(Int64), \`s\` String', ('a', 1, 'x'))) AS __s0) AS __s1 GROUP BY __k0) AS __s2"`,
    );
  });

  it('default join is innerunique: left side de-duplicated per key', () => {
    expect(
      sql('datatable(k:string, a:long)["x",1] | join (datatable(k:string, b:long)["x",2]) on k'),
    ).toMatchInlineSnapshot(
      `"SELECT __j0 AS \`k\`, __j1 AS \`a\`, __j2 AS \`k1\`, __j3 AS \`b\` FROM (SELECT __l0.\`k\` AS __j0, __l0.\`a\` AS __j1, __r1.\`k\` AS __j2, __r1.\`b\` AS __j3 FROM (SELECT * FROM (SELECT * FROM values('\`k\` String, \`a\` Nullable(Int64)', ('x', 1))) AS __s2 LIMIT 1 BY \`k\`) AS __l0 INNER JOIN (SELECT * FROM values('\`k\` String, \`b\` Nullable(Int64)', ('x', 2))) AS __r1 ON __l0.\`k\` = __r1.\`k\`) AS __s3"`,
    );
  });

  it('leftouter join makes right columns nullable', () => {
    expect(
      sql(
        'datatable(k:string)["x"] | join kind=leftouter (datatable(k:string, n:long)["x",2]) on $left.k == $right.k',
      ),
    ).toMatchInlineSnapshot(
      `"SELECT __j0 AS \`k\`, __j1 AS \`k1\`, __j2 AS \`n\` FROM (SELECT __l0.\`k\` AS __j0, __r1.\`k\` AS __j1, __r1.\`n\` AS __j2 FROM (SELECT * FROM values('\`k\` String', ('x'))) AS __l0 LEFT OUTER JOIN (SELECT \`k\`, toNullable(\`n\`) AS \`n\` FROM (SELECT * FROM values('\`k\` String, \`n\` Nullable(Int64)', ('x', 2))) AS __s2) AS __r1 ON __l0.\`k\` = __r1.\`k\`) AS __s3"`,
    );
  });

  it('datetime arithmetic with ticks, ago, timespan division', () => {
    expect(
      sql(
        'datatable(t:datetime)[datetime(2024-01-01)] | where t > ago(1d) | extend h = (now() - t) / 1h, u = t + 30m',
      ),
    ).toMatchInlineSnapshot(
      `"SELECT \`t\`, \`h\`, toDateTime64(fromUnixTimestamp64Nano((intDiv(toUnixTimestamp64Nano(\`t\`), 100) + (toInt64(18000000000))) * 100, 'UTC'), 7, 'UTC') AS \`u\` FROM (SELECT \`t\`, ((intDiv(toUnixTimestamp64Nano(now64(7, 'UTC')), 100) - intDiv(toUnixTimestamp64Nano(\`t\`), 100)) / toInt64(36000000000)) AS \`h\` FROM (SELECT * FROM (SELECT * FROM values('\`t\` Nullable(DateTime64(7, \\'UTC\\'))', (parseDateTime64BestEffort('2024-01-01', 7, 'UTC')))) AS __s0 WHERE (\`t\` > toDateTime64(fromUnixTimestamp64Nano((intDiv(toUnixTimestamp64Nano(now64(7, 'UTC')), 100) - (toInt64(864000000000))) * 100, 'UTC'), 7, 'UTC'))) AS __s1) AS __s2"`,
    );
  });

  it('sort, top, take, distinct, union', () => {
    expect(
      sql(
        'datatable(a:long)[1] | union (datatable(a:long)[2]) | sort by a asc | top 5 by a | take 3 | distinct a',
      ),
    ).toMatchInlineSnapshot(
      `"SELECT DISTINCT \`a\` FROM (SELECT * FROM (SELECT * FROM (SELECT * FROM (SELECT \`a\` FROM (SELECT * FROM values('\`a\` Nullable(Int64)', (1))) AS __s0 UNION ALL SELECT \`a\` FROM (SELECT * FROM values('\`a\` Nullable(Int64)', (2))) AS __s1) AS __s2 ORDER BY \`a\` ASC NULLS FIRST) AS __s3 ORDER BY \`a\` DESC NULLS LAST LIMIT 5) AS __s4 LIMIT 3) AS __s5"`,
    );
  });

  it('mv-expand: element arrays, ARRAY JOIN over row numbers, lockstep by index', () => {
    expect(
      sql(
        'datatable(a:dynamic, b:dynamic)[dynamic([1]), dynamic([2])] | mv-expand with_itemindex=i a, b to typeof(long) limit 5',
      ),
    ).toMatchInlineSnapshot(
      `"SELECT __e0 AS \`a\`, __e1 AS \`b\`, __e2 AS \`i\` FROM (SELECT nullIf(__ma0[__mvi + 1], 'null') AS __e0, toInt64OrNull(multiIf(isNull(__ma1[__mvi + 1]), '', JSONType(__ma1[__mvi + 1]) = 'String', JSONExtractString(__ma1[__mvi + 1]), JSONType(__ma1[__mvi + 1]) = 'Null', '', assumeNotNull(__ma1[__mvi + 1]))) AS __e1, toInt64(__mvi) AS __e2 FROM (SELECT *, multiIf(__mv0 = 'null', CAST([NULL], 'Array(Nullable(String))'), JSONType(__mv0) = 'Array', CAST(JSONExtractArrayRaw(__mv0), 'Array(Nullable(String))'), JSONType(__mv0) = 'Object', CAST(arrayMap(kv -> concat('{', toJSONString(kv.1), ':', kv.2, '}'), JSONExtractKeysAndValuesRaw(__mv0)), 'Array(Nullable(String))'), CAST([__mv0], 'Array(Nullable(String))')) AS __ma0, multiIf(__mv1 = 'null', CAST([NULL], 'Array(Nullable(String))'), JSONType(__mv1) = 'Array', CAST(JSONExtractArrayRaw(__mv1), 'Array(Nullable(String))'), JSONType(__mv1) = 'Object', CAST(arrayMap(kv -> concat('{', toJSONString(kv.1), ':', kv.2, '}'), JSONExtractKeysAndValuesRaw(__mv1)), 'Array(Nullable(String))'), CAST([__mv1], 'Array(Nullable(String))')) AS __ma1 FROM (SELECT *, ifNull(\`a\`, 'null') AS __mv0, ifNull(\`b\`, 'null') AS __mv1 FROM (SELECT * FROM values('\`a\` Nullable(String), \`b\` Nullable(String)', ('[1]', '[2]'))) AS __s0) AS __s1) AS __s2 ARRAY JOIN range(toUInt64(least(greatest(length(__ma0), length(__ma1)), toUInt64(greatest(5, 0))))) AS __mvi) AS __s3"`,
    );
  });

  it('has_any over a tabular expression: arrayExists of term matches over its distinct first-column values', () => {
    expect(
      sql('let B = datatable(t:string)[".exe"]; datatable(s:string)["a.exe"] | where s has_any (B)'),
    ).toMatchInlineSnapshot(
      `"SELECT * FROM (SELECT * FROM values('\`s\` String', ('a.exe'))) AS __s0 WHERE arrayExists(\`__n\` -> match(\`s\`, concat('(?i)', if(match(\`__n\`, '^[\\\\p{L}\\\\p{N}]'), '(?:^|[^\\\\p{L}\\\\p{N}])', ''), regexpQuoteMeta(\`__n\`), if(match(\`__n\`, '[\\\\p{L}\\\\p{N}]$'), '(?:$|[^\\\\p{L}\\\\p{N}])', ''))), (SELECT groupUniqArray(10000)(\`t\`) FROM (SELECT * FROM values('\`t\` String', ('.exe'))) AS __s1))"`,
    );
  });

  it('parse: anchored RE2 regex, match + extractGroups', () => {
    expect(sql('datatable(s:string)["a=1 b"] | parse s with * "a=" n:long " " rest')).toMatchInlineSnapshot(
      `"SELECT __e0 AS \`s\`, __e1 AS \`n\`, __e2 AS \`rest\` FROM (SELECT \`s\` AS __e0, if((__pm AND isNotNull(toInt64OrNull(trimBoth(__pg[1])))), toInt64OrNull(trimBoth(__pg[1])), CAST(NULL, 'Nullable(Int64)')) AS __e1, if((__pm AND isNotNull(toInt64OrNull(trimBoth(__pg[1])))), __pg[2], '') AS __e2 FROM (SELECT *, match(__pt, '^.*?a=(-?\\\\d+) (.*?)$') AS __pm, extractGroups(__pt, '^.*?a=(-?\\\\d+) (.*?)$') AS __pg FROM (SELECT *, \`s\` AS __pt FROM (SELECT * FROM values('\`s\` String', ('a=1 b'))) AS __s0) AS __s1) AS __s2) AS __s3"`,
    );
  });

  it('range, print, toscalar, union withsource with type suffixes', () => {
    expect(sql('range x from 1 to 5 step 2')).toMatchInlineSnapshot(
      `"SELECT toInt64(1 + toInt64(__n) * (2)) AS \`x\` FROM (SELECT arrayJoin(range(toUInt64(greatest(intDiv(5 - 1, 2) + 1, 0)))) AS __n) AS __s0"`,
    );
    expect(
      sql('let m = toscalar(datatable(x:long)[1] | summarize max(x)); print v = m'),
    ).toMatchInlineSnapshot(
      `"SELECT (SELECT toNullable(\`max_x\`) FROM (SELECT __a0 AS \`max_x\` FROM (SELECT maxOrNull(\`x\`) AS __a0 FROM (SELECT * FROM values('\`x\` Nullable(Int64)', (1))) AS __s0) AS __s1) AS __s2 LIMIT 1) AS \`v\`"`,
    );
    expect(
      sql('union withsource=T (datatable(x:long)[1]), (datatable(x:string)["q"])'),
    ).toMatchInlineSnapshot(
      `"SELECT 'union_arg0' AS \`T\`, \`x\` AS \`x_long\`, CAST('', 'String') AS \`x_string\` FROM (SELECT * FROM values('\`x\` Nullable(Int64)', (1))) AS __s0 UNION ALL SELECT 'union_arg1' AS \`T\`, CAST(NULL, 'Nullable(Int64)') AS \`x_long\`, \`x\` AS \`x_string\` FROM (SELECT * FROM values('\`x\` String', ('q'))) AS __s1"`,
    );
  });

  it('render is metadata only', () => {
    const q = compileQuery('print x = 1 | render barchart with (title="t")', catalog);
    expect(q.render).toEqual({ visualization: 'barchart', title: 't' });
    expect(q.sql).toBe(compileQuery('print x = 1', catalog).sql);
  });

  it('hidden columns are selected only when named, and left out of the result', () => {
    const q = compileQuery('OfficeActivity | where isnotempty(_ItemId) | take 1', catalog);
    expect(q.columns.some((c) => c.name.startsWith('_'))).toBe(false);
    expect(q.sql).toContain('`_ItemId`');
  });
});

describe('IR printing', () => {
  it('prints each step with its output columns', () => {
    const q = compileQuery(
      'let T = datatable(a:string, n:long)["x", 1]; T | where n > 0 | summarize c = count() by a | sort by c',
      catalog,
    );
    expect(q.explain()).toMatchInlineSnapshot(`
      "datatable (a:string, n:long) [1 rows]
      | where (n > 0)
          => (a:string, n:long)
      | summarize c=count() by a
          => (a:string, c:long)
      | sort by c desc nulls last
          => (a:string, c:long)"
    `);
  });
});

describe('IR printing of newer operators', () => {
  it('mv-expand, parse, union withsource, render', () => {
    const q = compileQuery(
      'datatable(s:string, d:dynamic)["a=1", dynamic([1])] | mv-expand d to typeof(long) | parse s with "a=" n:long | union withsource=T (print s = "x") | render table',
      catalog,
    );
    expect(q.explain()).toMatchInlineSnapshot(`
      "datatable (s:string, d:dynamic) [1 rows]
      | mv-expand kind=bag d=d to typeof(long)
          => (s:string, d:long)
      | parse s regex "^a=(-?\\\\d+)$" => n:long=$1
          => (s:string, d:long, n:long)
      | union withsource=T (union_arg0, union_arg1)
          print s="x"
          => (T:string, s:string, d:long, n:long)
      | render {"visualization":"table"}
          => (T:string, s:string, d:long, n:long)"
    `);
  });
});

describe('errors', () => {
  const code = (q: string) => {
    try {
      compileQuery(q, catalog);
    } catch (e) {
      return [(e as KqlError).code, (e as KqlError).start];
    }
    return undefined;
  };
  it('keeps Kusto diagnostic codes and positions', () => {
    expect(code('SecurityAlert | where Foo == 1')).toEqual(['KS142', 22]);
  });
  it('names unsupported operators and functions', () => {
    expect(code('SecurityAlert | getschema')?.[0]).toBe('KQL_UNSUPPORTED_OPERATOR');
    expect(code('SecurityAlert | extend x = hash(AlertName)')?.[0]).toBe('KQL_UNSUPPORTED_FUNCTION');
  });
  it('never puts SQL in messages', () => {
    try {
      compileQuery('SecurityAlert | lookup (datatable(AlertName:string)["x"]) on AlertName', catalog);
    } catch (e) {
      expect((e as Error).message).not.toMatch(/SELECT/);
    }
  });
});

describe('language service cost', () => {
  it('loads once and binds queries in milliseconds (figures printed)', () => {
    const { loadMs } = loadLanguage();
    const query =
      'SecurityAlert | where TimeGenerated > ago(1d) and AlertName has "x" | extend e = tostring(parse_json(ExtendedProperties).a) | summarize count() by AlertName, e';
    compileQuery(query, catalog);
    const times: number[] = [];
    for (let i = 0; i < 50; i++) {
      const t0 = performance.now();
      compileQuery(query, catalog);
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)]!;
    const t0 = performance.now();
    analyze(query, catalog);
    const analyzeMs = performance.now() - t0;
    console.log(
      `language service load ${loadMs.toFixed(0)} ms; compile median ${median.toFixed(2)} ms; analyze ${analyzeMs.toFixed(2)} ms`,
    );
    expect(median).toBeLessThan(100);
  });
});
