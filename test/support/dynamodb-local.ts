/**
 * DynamoDB Local for the tests and the bench: the local stack's starter (local/dynamodb-local.ts;
 * local/ may not import test/, so it lives there).
 */
export * from '../../local/dynamodb-local';
