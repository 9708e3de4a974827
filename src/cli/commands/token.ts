import fs from 'node:fs';
import { type Command, InvalidArgumentError } from 'commander';
import { ROLES, type Role } from '../../server/auth/roles.js';
import { TokenService } from '../../server/auth/token-service.js';
import { type TokenRecord, TokenRepository } from '../../storage/control/tokens.js';
import { dataPaths, Workspace } from '../../workspace/workspace.js';
import { CliError, defaultDataDir } from '../output.js';

function parseRole(value: string): Role {
  const role = ROLES.find((r) => r.toLowerCase() === value.toLowerCase());
  if (!role) throw new InvalidArgumentError(`use one of ${ROLES.join(', ')}.`);
  return role;
}

/**
 * Runs `fn` on the control plane only: SQLite in WAL mode, so this works beside a running server that owns
 * the log store. `mustExist` refuses a data directory that was never used (a mistyped --data-dir).
 */
async function withTokens<T>(
  dataDir: string,
  mustExist: boolean,
  fn: (tokens: TokenService) => Promise<T>,
): Promise<T> {
  const paths = dataPaths(dataDir);
  if (mustExist && !fs.existsSync(paths.controlDb)) {
    throw new CliError(
      `no Vigil data directory at ${paths.root} (pass --data-dir, or run 'vigil serve' there first)`,
    );
  }
  const { db } = await Workspace.openControl(dataDir);
  try {
    return await fn(new TokenService(new TokenRepository(db)));
  } finally {
    await db.destroy();
  }
}

function when(iso: string | null): string {
  return iso ? `${iso.slice(0, 19).replace('T', ' ')}Z` : '-';
}

function printTable(records: readonly TokenRecord[]): void {
  const header = ['ID', 'NAME', 'ROLE', 'PREFIX', 'CREATED', 'LAST USED', 'REVOKED'];
  const rows = records.map((r) => [
    r.id,
    r.name,
    r.role,
    r.prefix,
    when(r.createdAt),
    when(r.lastUsedAt),
    when(r.revokedAt),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const fmt = (row: string[]) =>
    row
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  process.stdout.write(`${[fmt(header), ...rows.map(fmt)].join('\n')}\n`);
}

/** `vigil token create|list|revoke`: API tokens, managed on the control plane directly. */
export function registerToken(program: Command): void {
  const token = program.command('token').description('manage API tokens (works beside a running server)');

  token
    .command('create')
    .description('create an API token; prints only the token on stdout (shown once)')
    .requiredOption('--role <role>', `the token's role: ${ROLES.join(', ')}`, parseRole)
    .requiredOption('--name <name>', 'a name to recognise the token by (letters, digits, spaces, . _ - @)')
    .option('-d, --data-dir <dir>', 'data directory (env VIGIL_DATA_DIR)', defaultDataDir())
    .action(async (options: { role: Role; name: string; dataDir: string }) => {
      await withTokens(options.dataDir, false, async (tokens) => {
        const { token: secret, record } = await tokens.create(options.name, options.role);
        process.stdout.write(`${secret}\n`);
        process.stderr.write(
          `vigil: created ${record.role} token '${record.name}' (id ${record.id}, prefix ${record.prefix}); ` +
            'it is shown this once, store it now\n',
        );
      });
    });

  token
    .command('list')
    .description('list API tokens (never the tokens themselves)')
    .option('-d, --data-dir <dir>', 'data directory (env VIGIL_DATA_DIR)', defaultDataDir())
    .option('--json', 'print JSON')
    .action(async (options: { dataDir: string; json?: boolean }) => {
      const records = await withTokens(options.dataDir, true, (tokens) => tokens.list());
      if (options.json) {
        const view = records.map((r) => ({
          id: r.id,
          name: r.name,
          role: r.role,
          prefix: r.prefix,
          createdAt: r.createdAt,
          lastUsedAt: r.lastUsedAt,
          revokedAt: r.revokedAt,
        }));
        process.stdout.write(`${JSON.stringify(view, null, 2)}\n`);
        return;
      }
      if (records.length === 0) {
        process.stderr.write('vigil: no tokens yet\n');
        return;
      }
      printTable(records);
    });

  token
    .command('revoke')
    .description('revoke a token by id or name (all active tokens of that name)')
    .argument('<idOrName>', 'token id or name')
    .option('-d, --data-dir <dir>', 'data directory (env VIGIL_DATA_DIR)', defaultDataDir())
    .action(async (idOrName: string, options: { dataDir: string }) => {
      await withTokens(options.dataDir, true, (tokens) => tokens.revoke(idOrName));
      process.stderr.write(`vigil: revoked '${idOrName}'\n`);
    });
}
