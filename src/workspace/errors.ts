/** Errors about the workspace's tables; the server maps `code` to an HTTP status in one place. */
export type WorkspaceErrorCode =
  | 'UnknownTable'
  | 'TableExists'
  | 'InvalidTableName'
  | 'InvalidTableDefinition'
  | 'InvalidColumn'
  | 'DataDirectoryUnwritable'
  | 'ReadOnlyTable';

export class WorkspaceError extends Error {
  constructor(
    readonly code: WorkspaceErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'WorkspaceError';
  }
}
