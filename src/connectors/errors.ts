export type ConnectorErrorCode =
  | 'UnknownConnectorKind'
  | 'InvalidDataConnector'
  | 'DataConnectorNotFound'
  | 'EtagConflict'
  | 'NotConnected';

/** Domain errors of connector management, mapped to HTTP in src/server/errors.ts. */
export class ConnectorError extends Error {
  constructor(
    readonly code: ConnectorErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ConnectorError';
  }
}
