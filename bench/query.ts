/**
 * `npm run bench:query [-- --rows N] [-- --runs R]`: typical KQL queries over N generated OfficeActivity rows
 * (default 10,000,000), each timed four ways in the same run, interleaved:
 *
 * - compile: parse + bind + lower + emit SQL (`compileQuery`), median of warmed-up compiles;
 * - compiled: the compiled SQL executed on the store;
 * - hand: a hand-written ClickHouse SQL computing the same result (the bench checks the rows are equal);
 * - http: the KQL through the Query API (`POST /v1/workspaces/{id}/query` on a listening server built by
 *   `buildApp`), against `direct`: the same KQL through `runQuery` in process (compile + execute + values).
 *
 * The rows are generated inside the engine (`INSERT ... SELECT ... FROM numbers(N)`), so loading takes
 * seconds: ~500 users (skewed, so the top 10 have no ties), 25 operations with their record types and
 * workloads, ~5,000 client IPs, a handful of user agents, a JSON `Item` on mail-item operations, over the
 * last 7 days. A second table, `BenchUsers_CL` (550 rows: one per user plus a second row for 50 of them),
 * is the right side of the joins. Targets (issue 3): compiled/hand <= 1.2, compile median <= 20 ms,
 * http/direct <= 1.5.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { IngestService } from '../src/ingest/service.js';
import { compileQuery, runQuery } from '../src/kql/run.js';
import { buildApp } from '../src/server/app.js';
import { TOKEN_PREFIX, TokenService } from '../src/server/auth/token-service.js';
import { Workspace } from '../src/workspace/workspace.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const OPERATIONS: readonly [string, string, string][] = [
  ['MailItemsAccessed', 'ExchangeItem', 'Exchange'],
  ['Send', 'ExchangeItem', 'Exchange'],
  ['MoveToDeletedItems', 'ExchangeItem', 'Exchange'],
  ['HardDelete', 'ExchangeItem', 'Exchange'],
  ['Update', 'ExchangeItem', 'Exchange'],
  ['New-InboxRule', 'ExchangeAdmin', 'Exchange'],
  ['Set-Mailbox', 'ExchangeAdmin', 'Exchange'],
  ['Add-MailboxPermission', 'ExchangeAdmin', 'Exchange'],
  ['FileAccessed', 'SharePointFileOperation', 'SharePoint'],
  ['FileDownloaded', 'SharePointFileOperation', 'SharePoint'],
  ['FileUploaded', 'SharePointFileOperation', 'SharePoint'],
  ['FileModified', 'SharePointFileOperation', 'SharePoint'],
  ['FileDeleted', 'SharePointFileOperation', 'SharePoint'],
  ['FilePreviewed', 'SharePointFileOperation', 'OneDrive'],
  ['FileSyncDownloadedFull', 'SharePointFileOperation', 'OneDrive'],
  ['SharingSet', 'SharePointSharingOperation', 'SharePoint'],
  ['AnonymousLinkCreated', 'SharePointSharingOperation', 'OneDrive'],
  ['PageViewed', 'SharePoint', 'SharePoint'],
  ['SearchQueryPerformed', 'SharePoint', 'SharePoint'],
  ['UserLoggedIn', 'AzureActiveDirectoryStsLogon', 'AzureActiveDirectory'],
  ['UserLoginFailed', 'AzureActiveDirectoryStsLogon', 'AzureActiveDirectory'],
  ['MemberAdded', 'MicrosoftTeams', 'MicrosoftTeams'],
  ['TeamCreated', 'MicrosoftTeams', 'MicrosoftTeams'],
  ['MessageSent', 'MicrosoftTeams', 'MicrosoftTeams'],
  ['Add member to role.', 'AzureActiveDirectory', 'AzureActiveDirectory'],
];
const MAIL_ITEM_OPERATIONS = 5; // the first five carry an `Item`
const AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36 Edg/120.0',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15',
  'Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0',
  'Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17126; Pro)',
  'OneDriveMpc-Transform_Thumbnail/1.0',
  'python-requests/2.31.0',
];
const FOLDERS = ['Inbox', 'Sent Items', 'Deleted Items', 'Archive', 'Drafts', 'RSS Feeds'];

function list(values: readonly string[]): string {
  return `[${values.map((v) => `'${v.replace(/'/g, "\\'")}'`).join(', ')}]`;
}

function generateSql(n: number, nowMs: number): string {
  const week = 7 * 86_400_000;
  // u in [0, 1): user index = floor(500 u^2) is skewed (user 0 has ~4.5 % of the rows, user 499 ~0.1 %).
  return `INSERT INTO vigil.OfficeActivity
  (TimeGenerated, OfficeId, RecordType, Operation, OrganizationId, UserType, UserKey, UserId, OfficeWorkload,
   ResultStatus, OfficeObjectId, ClientIP, UserAgent, Item, TenantId, _TimeReceived, _BilledSize)
SELECT
  fromUnixTimestamp64Milli(toInt64(${nowMs} - intDiv(number * ${week}, ${n}) - h1 % 60000), 'UTC'),
  toString(generateUUIDv4(number)),
  arrayElement(${list(OPERATIONS.map((o) => o[1]))}, op + 1),
  arrayElement(${list(OPERATIONS.map((o) => o[0]))}, op + 1),
  'b6e3a1c2-0000-4000-8000-000000000001',
  'Regular',
  toString(10032000 + user),
  if(user % 50 = 7, concat('admin', toString(user), '@contoso.com'), concat('user', toString(user), '@contoso.com')),
  arrayElement(${list(OPERATIONS.map((o) => o[2]))}, op + 1),
  if(h2 % 20 = 0, 'Failed', 'Succeeded'),
  concat('https://contoso.sharepoint.com/sites/site', toString(h2 % 40), '/doc', toString(h1 % 1000), '.docx'),
  concat('10.', toString(user % 20), '.', toString(h2 % 10), '.', toString(intDiv(user, 20) + 1)),
  arrayElement(${list(AGENTS)}, (h1 + user) % ${AGENTS.length} + 1),
  if(op < ${MAIL_ITEM_OPERATIONS},
     concat('{"Id":"RgAAAA', hex(h1 % 100000000), '","Subject":"Invoice ', toString(h2 % 97),
            '","ParentFolder":{"Id":"LgAAAA', toString(h2 % 50), '","Name":"', arrayElement(${list(FOLDERS)}, h2 % ${FOLDERS.length} + 1),
            '","Path":"/', arrayElement(${list(FOLDERS)}, h2 % ${FOLDERS.length} + 1), '"},"SizeInBytes":', toString(h1 % 200000),
            ',"Attachments":"invoice.pdf (', toString(h1 % 90000), 'b)"}'),
     ''),
  '7f3c9d1e-0000-4000-8000-0000000000aa',
  now64(7),
  2000
FROM (
  SELECT number, cityHash64(number, 1) AS h1, cityHash64(number, 2) AS h2,
         toUInt32(floor(500 * pow((cityHash64(number, 3) % 1000000) / 1000000, 2))) AS user,
         cityHash64(number, 4) % ${OPERATIONS.length} AS op
  FROM numbers(${n})
)`;
}

const USERS_SQL = `INSERT INTO vigil.BenchUsers_CL (TimeGenerated, UserPrincipalName, Department, Country)
SELECT now64(7),
  if(k % 50 = 7, concat('admin', toString(k), '@contoso.com'), concat('user', toString(k), '@contoso.com')),
  arrayElement(['Finance', 'Sales', 'IT', 'HR', 'Legal', 'Engineering'], k % 6 + 1),
  if(number < 500, arrayElement(['US', 'DE', 'FR', 'JP'], k % 4 + 1), 'GB')
FROM (SELECT number, number % 500 AS k FROM numbers(550))`;

interface BenchQuery {
  readonly name: string;
  readonly kql: string;
  readonly hand: string;
  /** Rows compare in order (top); otherwise sorted. */
  readonly ordered?: boolean;
}

function queries(nowMs: number): BenchQuery[] {
  const since = new Date(nowMs - 3 * 86_400_000).toISOString();
  const sinceSql = `toDateTime64('${since.replace('T', ' ').replace('Z', '')}', 7, 'UTC')`;
  const OA = 'vigil.OfficeActivity';
  return [
    {
      name: 'filter + count',
      kql: `OfficeActivity | where TimeGenerated >= datetime(${since}) and Operation == "FileDownloaded" | count`,
      hand: `SELECT count() FROM ${OA} WHERE TimeGenerated >= ${sinceSql} AND Operation = 'FileDownloaded'`,
    },
    {
      name: 'summarize by bin 1h',
      kql: 'OfficeActivity | summarize count() by bin(TimeGenerated, 1h)',
      hand: `SELECT toStartOfInterval(TimeGenerated, INTERVAL 1 HOUR) AS t, count() FROM ${OA} GROUP BY t`,
    },
    {
      name: 'top 10 users',
      kql: 'OfficeActivity | summarize Events = count() by UserId | top 10 by Events',
      hand: `SELECT UserId, count() AS Events FROM ${OA} GROUP BY UserId ORDER BY Events DESC LIMIT 10`,
      ordered: true,
    },
    {
      name: 'has search',
      kql: 'OfficeActivity | where UserAgent has "Firefox" | summarize count() by Operation',
      hand: `SELECT Operation, count() FROM ${OA} WHERE hasTokenCaseInsensitive(UserAgent, 'Firefox') GROUP BY Operation`,
    },
    {
      name: 'contains search',
      kql: 'OfficeActivity | where UserId contains "admin" | summarize count() by Operation',
      hand: `SELECT Operation, count() FROM ${OA} WHERE UserId ILIKE '%admin%' GROUP BY Operation`,
    },
    {
      name: 'JSON extraction',
      kql: 'OfficeActivity | where isnotempty(Item) | extend Folder = tostring(parse_json(Item).ParentFolder.Name) | summarize count() by Folder',
      hand: `SELECT JSONExtractString(Item, 'ParentFolder', 'Name') AS Folder, count() FROM ${OA} WHERE Item != '' GROUP BY Folder`,
    },
    {
      name: 'join kind=inner',
      kql: 'OfficeActivity | where Operation == "FileDownloaded" | join kind=inner (BenchUsers_CL) on $left.UserId == $right.UserPrincipalName | summarize Downloads = count() by Department, Country',
      hand: `SELECT Department, Country, count() FROM (SELECT UserId FROM ${OA} WHERE Operation = 'FileDownloaded') AS l INNER JOIN vigil.BenchUsers_CL AS r ON l.UserId = r.UserPrincipalName GROUP BY Department, Country`,
    },
    {
      name: 'join innerunique',
      kql: 'OfficeActivity | where Operation == "New-InboxRule" | join (BenchUsers_CL) on $left.UserId == $right.UserPrincipalName | summarize Users = dcount(UserId), Rows = count() by Department',
      hand: `SELECT Department, uniqExact(UserId), count() FROM (SELECT DISTINCT UserId FROM ${OA} WHERE Operation = 'New-InboxRule') AS l INNER JOIN vigil.BenchUsers_CL AS r ON l.UserId = r.UserPrincipalName GROUP BY Department`,
    },
  ];
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function timed<T>(f: () => Promise<T>): Promise<[number, T]> {
  const t = process.hrtime.bigint();
  const value = await f();
  return [Number(process.hrtime.bigint() - t) / 1e6, value];
}

/** Cells as comparable text: numbers quoted or not, `.0000000` fractions of whole seconds dropped. */
function normalise(rows: unknown[][], ordered: boolean): string {
  const text = rows.map((r) =>
    JSON.stringify(
      r.map((v) => {
        const s = String(v);
        return /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.0+$/.test(s) ? s.replace(/\.0+$/, '') : s;
      }),
    ),
  );
  return (ordered ? text : text.sort()).join('\n');
}

async function main(): Promise<void> {
  const n = Number(arg('rows') ?? process.env.BENCH_ROWS ?? 10_000_000);
  const runs = Number(arg('runs') ?? 7);
  const compiles = Number(arg('compiles') ?? 25);
  // `--data DIR` keeps the workspace (loaded once, reused while developing); by default a fresh temporary one.
  const keep = arg('data');
  const dir = keep ?? fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-query-'));
  const ws = await Workspace.open(dir);
  const logger = pino({ level: 'silent' });
  const token = TOKEN_PREFIX + crypto.randomBytes(32).toString('base64url');
  const app = buildApp({
    workspace: ws,
    ingest: new IngestService(ws),
    tokens: new TokenService(ws.tokens),
    localToken: token,
    logger,
  });
  try {
    const have = await ws.store.query<{ n: string }>('SELECT count() AS n FROM vigil.OfficeActivity');
    const reuse = keep !== undefined && Number(have[0]?.n) === n;
    if (!reuse)
      await ws.createCustomTable({
        name: 'BenchUsers_CL',
        columns: [
          { name: 'TimeGenerated', type: 'datetime' },
          { name: 'UserPrincipalName', type: 'string' },
          { name: 'Department', type: 'string' },
          { name: 'Country', type: 'string' },
        ],
      });
    const nowMs = reuse
      ? Number(
          (
            await ws.store.query<{ t: string }>(
              'SELECT toUnixTimestamp64Milli(max(TimeGenerated)) AS t FROM vigil.OfficeActivity',
            )
          )[0]?.t,
        )
      : Date.now() - 60_000;
    const [loadMs] = await timed(async () => {
      if (reuse) return;
      await ws.store.command(generateSql(n, nowMs));
      await ws.store.command(USERS_SQL);
    });
    const stored = await ws.store.query<{ n: string }>('SELECT count() AS n FROM vigil.OfficeActivity');
    if (Number(stored[0]?.n) !== n) throw new Error(`loaded ${stored[0]?.n} rows, expected ${n}`);
    process.stdout.write(
      `bench:query: ${n.toLocaleString('en-US')} OfficeActivity rows generated and loaded in ${(loadMs / 1000).toFixed(1)} s; ${runs} interleaved runs per query, ${os.cpus().length} cores\n`,
    );

    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const url = `http://127.0.0.1:${port}/v1/workspaces/${ws.id}/query`;
    const http = async (kql: string): Promise<number> => {
      const res = await fetch(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ query: kql }),
      });
      const body = (await res.json()) as { tables?: { rows: unknown[] }[] };
      if (res.status !== 200 || !body.tables) throw new Error(`HTTP ${res.status}: ${JSON.stringify(body)}`);
      return body.tables[0]!.rows.length;
    };
    const exec = async (sql: string): Promise<unknown[][]> =>
      (JSON.parse(await ws.store.queryText(sql, 'JSONCompact')) as { data: unknown[][] }).data;

    const header = `${'query'.padEnd(20)} ${'compile'.padStart(9)} ${'compiled'.padStart(10)} ${'hand'.padStart(10)} ${'ratio'.padStart(6)} ${'http'.padStart(10)} ${'direct'.padStart(10)} ${'http/dir'.padStart(8)}  rows  equal`;
    process.stdout.write(`${header}\n`);
    const misses: string[] = [];
    let compileMax = 0;
    for (const q of queries(nowMs)) {
      // Compile: warm up, then the median of `compiles` compiles.
      for (let i = 0; i < 5; i++) compileQuery(q.kql, ws.catalog, ws.store.database);
      const compileTimes: number[] = [];
      let sql = '';
      for (let i = 0; i < compiles; i++) {
        const t = process.hrtime.bigint();
        sql = compileQuery(q.kql, ws.catalog, ws.store.database).sql;
        compileTimes.push(Number(process.hrtime.bigint() - t) / 1e6);
      }
      // Results must agree before anything is timed.
      const mine = await exec(sql);
      const theirs = await exec(q.hand);
      const equal = normalise(mine, !!q.ordered) === normalise(theirs, !!q.ordered);
      const direct = await runQuery(ws, q.kql);
      const httpRows = await http(q.kql);
      if (direct.rows.length !== mine.length || httpRows !== mine.length)
        throw new Error(
          `${q.name}: row counts differ (sql ${mine.length}, direct ${direct.rows.length}, http ${httpRows})`,
        );
      const t = {
        compiled: [] as number[],
        hand: [] as number[],
        http: [] as number[],
        direct: [] as number[],
      };
      const steps: [keyof typeof t, () => Promise<unknown>][] = [
        ['compiled', () => exec(sql)],
        ['hand', () => exec(q.hand)],
        ['direct', () => runQuery(ws, q.kql)],
        ['http', () => http(q.kql)],
      ];
      for (let r = 0; r < runs; r++) {
        // Interleaved, in a rotating order, so drifting load hits every variant alike.
        for (let i = 0; i < steps.length; i++) {
          const [key, f] = steps[(i + r) % steps.length]!;
          t[key].push((await timed(f))[0]);
        }
      }
      const c = median(compileTimes);
      compileMax = Math.max(compileMax, c);
      const ratio = median(t.compiled) / median(t.hand);
      const httpRatio = median(t.http) / median(t.direct);
      if (ratio > 1.2) misses.push(`${q.name}: compiled/hand ${ratio.toFixed(2)}`);
      if (httpRatio > 1.5) misses.push(`${q.name}: http/direct ${httpRatio.toFixed(2)}`);
      if (!equal) misses.push(`${q.name}: results differ`);
      const ms = (v: number) => `${v.toFixed(1)} ms`.padStart(10);
      process.stdout.write(
        `${q.name.padEnd(20)} ${`${c.toFixed(2)} ms`.padStart(9)} ${ms(median(t.compiled))} ${ms(median(t.hand))} ${ratio.toFixed(2).padStart(6)} ${ms(median(t.http))} ${ms(median(t.direct))} ${httpRatio.toFixed(2).padStart(8)} ${String(mine.length).padStart(5)}  ${equal ? 'yes' : 'NO'}\n`,
      );
      if (!equal) {
        process.stdout.write(`  compiled: ${normalise(mine, !!q.ordered).slice(0, 400)}\n`);
        process.stdout.write(`  hand:     ${normalise(theirs, !!q.ordered).slice(0, 400)}\n`);
      }
      if (process.argv.includes('--sql')) process.stdout.write(`  ${sql}\n`);
    }
    process.stdout.write(
      `targets: compiled/hand <= 1.2, compile median <= 20 ms (max ${compileMax.toFixed(2)} ms), http/direct <= 1.5; peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB\n`,
    );
    process.stdout.write(misses.length ? `missed: ${misses.join('; ')}\n` : 'all targets met\n');
    if (misses.some((m) => m.endsWith('results differ'))) process.exitCode = 1;
  } finally {
    await app.close();
    await ws.close();
    if (!keep) fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
